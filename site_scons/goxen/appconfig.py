"""Per-application configuration: configs/NAME.yaml.

Schema version 1 (every key is listed here; any other key is an error):

    version: 1               required, the schema version
    name: hello              required, the domain and output name: [a-z0-9][a-z0-9_-]*, at most 64 chars
    package: ./apps/hello    required, Go package path relative to the project top (a directory)
    memory: 32M              required, guest memory: a whole number of MiB written NNNM or NG
    cmdline: "ip=dhcp"       optional, kernel command line (the xl config's extra=)

Errors name the file, the key and the reason: `configs/hello.yaml: memory: bad size '32X' ...`.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

SCHEMA_VERSION = 1
SUFFIXES = (".yaml", ".yml")
MIN_MEMORY_MIB = 4
_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}\Z")
_SIZE_RE = re.compile(r"([0-9]+)([MG])\Z")


class AppConfigError(Exception):
    """An application config is missing or invalid; str() names file, key and reason."""

    def __init__(self, path, key, reason):
        self.path, self.key, self.reason = str(path), key, reason
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class AppConfig:
    path: Path          # the YAML file
    name: str
    package: str        # as written, e.g. ./apps/hello
    memory_mib: int
    cmdline: str = ""


def parse_size_mib(text):
    """'32M' -> 32, '1G' -> 1024; ValueError on anything else."""
    m = _SIZE_RE.match(text.strip()) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"bad size {text!r} (expected a whole number of MiB such as 32M or 1G)")
    n = int(m.group(1)) * (1024 if m.group(2) == "G" else 1)
    if n < MIN_MEMORY_MIB:
        raise ValueError(f"bad size {text!r} (at least {MIN_MEMORY_MIB}M)")
    return n


def _check_version(v):
    if v != SCHEMA_VERSION:
        raise ValueError(f"unsupported schema version {v!r} (this build reads version {SCHEMA_VERSION})")
    return v


def _check_name(v):
    if not _NAME_RE.match(v):
        raise ValueError(f"bad name {v!r} (lower-case letters, digits, '-' and '_', at most 64)")
    return v


def _check_package(v):
    if not v.startswith("./"):
        raise ValueError(f"bad package {v!r} (a path relative to the project top, starting with ./)")
    return v


def _check_cmdline(v):
    if '"' in v or "\n" in v:
        raise ValueError("the command line may not contain double quotes or newlines")
    return v


# key -> (python type, type name for messages, required, check(value) -> value)
FIELDS = {
    "version": (int, "an integer", True, _check_version),
    "name": (str, "a string", True, _check_name),
    "package": (str, "a string", True, _check_package),
    "memory": (str, "a size string such as 32M", True, parse_size_mib),
    "cmdline": (str, "a string", False, _check_cmdline),
}


def validate(data, path, top=None):
    """Validate parsed YAML data; return an AppConfig. top: project top for the package check."""
    if not isinstance(data, dict):
        raise AppConfigError(path, None, "expected a mapping of keys to values at the top level")
    for key in data:
        if key not in FIELDS:
            raise AppConfigError(path, key, f"unknown key (known keys: {', '.join(FIELDS)})")
    values = {}
    for key, (typ, typename, required, check) in FIELDS.items():
        if key not in data:
            if required:
                raise AppConfigError(path, key, "missing required key")
            continue
        v = data[key]
        if not isinstance(v, typ) or isinstance(v, bool):
            raise AppConfigError(path, key, f"expected {typename}, got {type(v).__name__} {v!r}")
        try:
            values[key] = check(v)
        except ValueError as e:
            raise AppConfigError(path, key, str(e)) from None
    if top is not None and not (Path(top) / values["package"]).is_dir():
        raise AppConfigError(path, "package", f"no directory {values['package']} under {top}")
    return AppConfig(path=Path(path), name=values["name"], package=values["package"],
                     memory_mib=values["memory"], cmdline=values.get("cmdline", ""))


def load(path, top=None):
    """Read and validate one YAML file."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise AppConfigError(path, None, "no such file") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise AppConfigError(path, None, f"{where}invalid YAML: {getattr(e, 'problem', e)}") from None
    return validate(data, path, top)


def list_apps(configs_dir):
    """Names of the applications configured in configs_dir, sorted."""
    d = Path(configs_dir)
    return sorted(p.stem for p in d.iterdir() if p.suffix in SUFFIXES) if d.is_dir() else []


def find(arg, configs_dir):
    """Resolve `app=` (a name in configs_dir, or a path to a .yaml file) to a file path."""
    if arg.endswith(SUFFIXES) or "/" in arg:
        return Path(arg)
    for suffix in SUFFIXES:
        p = Path(configs_dir) / (arg + suffix)
        if p.exists():
            return p
    apps = list_apps(configs_dir)
    raise AppConfigError(Path(configs_dir) / (arg + ".yaml"), None,
                         "no such file; available apps: " + (", ".join(apps) or "(none)"))
