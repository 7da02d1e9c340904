"""Per-application configuration: configs/NAME.yaml (schema version 1, see configs/README.md).

Every key is listed in FIELDS; any other key, a wrong type, a bad size or address stops the build
with an AppConfigError naming the file, the key and the reason, e.g.
`configs/kvstore.yaml: network[0].ip: bad address '10.0.0.300/24' ...`.

Paths (package, romfs) are relative to the config's root: the nearest directory at or above the
YAML file that holds a go.mod (the Go module the app belongs to), else the `top` given to load().
"""

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

SCHEMA_VERSION = 1
SUFFIXES = (".yaml", ".yml")
MIN_MEMORY_MIB = 4
MODES = ("pv", "pvh")   # xl type; the same image boots either way
DEFAULT_MODE = "pvh"   # configs/README.md says why
#: The runtime's limit (XEN_MAX_CPUS in mini-os-shim/include/xen_boot.h).
MAX_VCPUS = 16
DEFAULT_MEMORY = "32M"
#: xl's actions for on_poweroff / on_reboot / on_crash / on_watchdog / on_soft_reset.
XL_ACTIONS = ("destroy", "restart", "rename-restart", "preserve", "coredump-destroy",
              "coredump-restart", "soft-reset")
XL_KEYS = ("on_poweroff", "on_reboot", "on_crash", "on_watchdog", "on_soft_reset")
XL_DEFAULTS = {"on_poweroff": "destroy", "on_reboot": "destroy", "on_crash": "destroy"}
DEFAULT_BRIDGE = "xenbr0"
_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}\Z")
_SIZE_RE = re.compile(r"([0-9]+)([MG])\Z")
_ENV_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MAC_RE = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z")
_BRIDGE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}\Z")
_WORD_BAD = re.compile(r"[\s\"'\\]")


class AppConfigError(Exception):
    """An application config is missing or invalid; str() names file, key and reason."""

    def __init__(self, path, key, reason):
        self.path, self.key, self.reason = str(path), key, reason
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Interface:
    ip: str                 # "dhcp" or "ADDR/PREFIX"
    gateway: str = ""       # only with a static ip
    mac: str = ""           # "" lets xl choose one
    bridge: str = DEFAULT_BRIDGE
    ip6: str = ""           # "" (auto: SLAAC), "off" or "ADDR/PREFIX"
    gateway6: str = ""      # only with a static ip6

    def words(self, index):
        """Kernel command-line words for interface index (0: ip= gw= ip6= gw6=; N: ipN=
        gwN= ip6N= gw6N=)."""
        n = "" if index == 0 else str(index)
        words = [f"ip{n}={self.ip}"]
        if self.gateway:
            words.append(f"gw{n}={self.gateway}")
        if self.ip6:
            words.append(f"ip6{n}={self.ip6}")
        if self.gateway6:
            words.append(f"gw6{n}={self.gateway6}")
        return words

    def vif(self):
        parts = ([f"mac={self.mac}"] if self.mac else []) + [f"bridge={self.bridge}"]
        return "'" + ",".join(parts) + "'"


@dataclass(frozen=True)
class DNS:
    servers: tuple = ()     # IPv4 or IPv6 addresses, in order
    search: tuple = ()      # domains for names without a dot

    def words(self):
        """dns=A,B search=X,Y (the guest's /etc/resolv.conf, net/dns_xen.go)."""
        return ([f"dns={','.join(self.servers)}"] if self.servers else []) + \
            ([f"search={','.join(self.search)}"] if self.search else [])


@dataclass(frozen=True)
class AppConfig:
    path: Path                  # the YAML file
    name: str
    package: str                # as written, e.g. ./apps/hello (relative to root)
    memory_mib: int
    cmdline: str = ""           # the whole generated kernel command line
    root: Path = Path(".")      # directory package and romfs are relative to
    vcpus: int = 1
    mode: str = DEFAULT_MODE    # xl type: pvh or pv (the same image boots as either)
    network: tuple = ()         # Interface, ...
    dns: DNS = DNS()
    romfs: str = ""             # as written, relative to root; "" for none
    env: tuple = ()             # ((KEY, VALUE), ...) in file order
    extra: tuple = ()           # extra command-line words, as written
    xl: dict = field(default_factory=dict)   # on_* -> action, defaults applied

    @property
    def package_dir(self):
        return (self.root / self.package).resolve()

    @property
    def romfs_dir(self):
        return (self.root / self.romfs).resolve() if self.romfs else None

    def vif_line(self):
        """The xl `vif = [...]` value, or "" without interfaces."""
        if not self.network:
            return ""
        return "[ " + ", ".join(i.vif() for i in self.network) + " ]"


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


def _check_relpath(what):
    def check(v):
        # "." and "./" are the root itself (Go's "this module"); anything else starts with ./
        # so that it cannot be taken for an import path.
        if v != "." and not v.startswith("./"):
            raise ValueError(f"bad {what} {v!r} (a path relative to the config's root: ., ./ "
                             "or ./dir)")
        if ".." in Path(v).parts:
            raise ValueError(f"bad {what} {v!r} ('..' is not allowed)")
        return v
    return check


def _check_mode(v):
    if v not in MODES:
        raise ValueError(f"bad mode {v!r} (pv or pvh: how Xen runs the guest; the same image "
                         "boots either way)")
    return v


def _check_vcpus(v):
    if not 1 <= v <= MAX_VCPUS:
        raise ValueError(f"bad vcpus {v} (1 to {MAX_VCPUS}, the vCPUs the Go runtime runs on)")
    return v


def _word(v, what):
    if not v or _WORD_BAD.search(v):
        raise ValueError(f"bad {what} {v!r} (one word: no spaces, quotes or backslashes)")
    return v


def _check_cmdline(v):
    words = v.split() if isinstance(v, str) else v
    out = []
    for i, w in enumerate(words):
        if not isinstance(w, str) or isinstance(w, bool):
            raise ValueError(f"word {i}: expected a string, got {type(w).__name__} {w!r}")
        out.append(_word(w, "word"))
        if w.startswith(("env.", "ip=", "gw=", "ip6=", "gw6=", "dns=", "search=")) or \
                re.match(r"(ip|gw|ip6|gw6)[0-9]+=", w):
            raise ValueError(f"word {w!r}: use the env:, network: and dns: keys for these words")
    return tuple(out)


def _check_env(v):
    out = []
    for k, val in v.items():
        if not isinstance(k, str) or not _ENV_KEY_RE.match(k):
            raise ValueError(f"bad variable name {k!r} (letters, digits and '_', not first a digit)")
        if isinstance(val, bool) or not isinstance(val, (str, int)):
            raise ValueError(f"{k}: expected a string or an integer, got {type(val).__name__} {val!r}")
        try:
            _word(str(val), "value")
        except ValueError as e:
            raise ValueError(f"{k}: {e}") from None
        out.append((k, str(val)))
    return tuple(out)


def _check_xl(v):
    out = dict(XL_DEFAULTS)
    for k, val in v.items():
        if k not in XL_KEYS:
            raise ValueError(f"unknown xl option {k!r} (known: {', '.join(XL_KEYS)})")
        if val not in XL_ACTIONS:
            raise ValueError(f"{k}: bad action {val!r} (one of {', '.join(XL_ACTIONS)})")
        out[k] = val
    return out


_IF_KEYS = ("ip", "gateway", "ip6", "gateway6", "mac", "bridge")


def _check_ip6(where, ip6, gw6):
    """Validate an interface's ip6 (auto, off or a static IPv6 ADDR/PREFIX) and gateway6."""
    if ip6 in ("", "auto", "off"):
        if gw6:
            raise ValueError(f"{where}.gateway6: only with a static ip6 (router advertisements "
                             "supply it with ip6: auto)")
        return
    try:
        iface = ipaddress.IPv6Interface(ip6)
    except ValueError:
        raise ValueError(f"{where}.ip6: bad address {ip6!r} (IPv6 ADDR/PREFIX such as "
                         "fd00::2/64, auto or off)") from None
    if "/" not in ip6:
        raise ValueError(f"{where}.ip6: bad address {ip6!r} (needs a prefix length: /64)")
    a = iface.ip
    if a.is_multicast or a.is_unspecified or a.is_loopback or a.ipv4_mapped:
        raise ValueError(f"{where}.ip6: bad address {ip6!r} (not a unicast address)")
    if gw6:
        try:
            g = ipaddress.IPv6Address(gw6)
        except ValueError:
            raise ValueError(f"{where}.gateway6: bad address {gw6!r} (an IPv6 address)") from None
        if not (g.is_link_local or g in iface.network):
            raise ValueError(f"{where}.gateway6: {gw6} is neither link-local nor in {iface.network}")
        if g == a:
            raise ValueError(f"{where}.gateway6: {gw6} is the interface's own address")


def _check_network(v):
    out = []
    macs = set()
    for i, itf in enumerate(v):
        where = f"[{i}]"
        if not isinstance(itf, dict):
            raise ValueError(f"{where}: expected a mapping with {', '.join(_IF_KEYS)}")
        for k in itf:
            if k not in _IF_KEYS:
                raise ValueError(f"{where}.{k}: unknown key (known keys: {', '.join(_IF_KEYS)})")
        if itf.get("ip6") is False:  # YAML 1.1 reads a bare off as false
            itf = {**itf, "ip6": "off"}
        for k, val in itf.items():
            if not isinstance(val, str):
                raise ValueError(f"{where}.{k}: expected a string, got {type(val).__name__} {val!r}")
        if "ip" not in itf:
            raise ValueError(f"{where}.ip: missing required key (ADDR/PREFIX or dhcp)")
        ip, gw = itf["ip"], itf.get("gateway", "")
        if ip == "dhcp":
            if gw:
                raise ValueError(f"{where}.gateway: not allowed with ip: dhcp (DHCP supplies it)")
        else:
            try:
                iface = ipaddress.IPv4Interface(ip)
            except ValueError:
                raise ValueError(f"{where}.ip: bad address {ip!r} (IPv4 ADDR/PREFIX such as "
                                 "10.0.0.2/24, or dhcp)") from None
            if "/" not in ip:
                raise ValueError(f"{where}.ip: bad address {ip!r} (needs a prefix length: /24)")
            net = iface.network
            if net.prefixlen < 31 and iface.ip in (net.network_address, net.broadcast_address):
                raise ValueError(f"{where}.ip: bad address {ip!r} (the network's "
                                 f"{'network' if iface.ip == net.network_address else 'broadcast'} address)")
            if gw:
                try:
                    g = ipaddress.IPv4Address(gw)
                except ValueError:
                    raise ValueError(f"{where}.gateway: bad address {gw!r} (an IPv4 address)") from None
                if g not in net:
                    raise ValueError(f"{where}.gateway: {gw} is not in {net}")
                if g == iface.ip:
                    raise ValueError(f"{where}.gateway: {gw} is the interface's own address")
        mac = itf.get("mac", "").lower()
        if mac:
            if not _MAC_RE.match(mac):
                raise ValueError(f"{where}.mac: bad MAC {itf['mac']!r} (six hex pairs such as 00:16:3e:00:00:02)")
            if int(mac[:2], 16) & 1:
                raise ValueError(f"{where}.mac: {mac} is a multicast address")
            if mac in macs:
                raise ValueError(f"{where}.mac: {mac} is used twice")
            macs.add(mac)
        bridge = itf.get("bridge", DEFAULT_BRIDGE)
        if not _BRIDGE_RE.match(bridge):
            raise ValueError(f"{where}.bridge: bad bridge name {bridge!r}")
        ip6, gw6 = itf.get("ip6", ""), itf.get("gateway6", "")
        _check_ip6(where, ip6, gw6)
        out.append(Interface(ip=ip, gateway=gw, mac=mac, bridge=bridge, ip6=ip6, gateway6=gw6))
    return tuple(out)


_DNS_KEYS = ("servers", "search")
_DOMAIN_RE = re.compile(r"(?=[^ ]{1,253}\Z)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                        r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?\Z")


def _check_dns(v):
    for k in v:
        if k not in _DNS_KEYS:
            raise ValueError(f".{k}: unknown key (known keys: {', '.join(_DNS_KEYS)})")
    out = {}
    for k in _DNS_KEYS:
        items = v.get(k) or []
        if not isinstance(items, list):
            raise ValueError(f".{k}: expected a list, got {type(items).__name__} {items!r}")
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise ValueError(f".{k}[{i}]: expected a string, got {type(item).__name__} {item!r}")
            if k == "servers":
                try:
                    ipaddress.ip_address(item)
                except ValueError:
                    raise ValueError(f".servers[{i}]: bad address {item!r} (an IPv4 or IPv6 address)") from None
            elif not _DOMAIN_RE.match(item):
                raise ValueError(f".search[{i}]: bad domain {item!r}")
        out[k] = tuple(items)
    if len(out["servers"]) > 3:
        raise ValueError(".servers: at most 3 (resolv.conf's limit, which Go's resolver keeps)")
    return DNS(**out)


# key -> (python type(s), type name for messages, required, check(value) -> value)
FIELDS = {
    "version": (int, "an integer", True, _check_version),
    "name": (str, "a string", False, _check_name),
    "package": (str, "a string", True, _check_relpath("package")),
    "memory": (str, "a size string such as 32M", False, parse_size_mib),
    "mode": (str, "pv or pvh", False, _check_mode),
    "vcpus": (int, "an integer", False, _check_vcpus),
    "network": (list, "a list of interfaces", False, _check_network),
    "dns": (dict, "a mapping with servers and search", False, _check_dns),
    "romfs": (str, "a string", False, _check_relpath("romfs directory")),
    "env": (dict, "a mapping of NAME: value", False, _check_env),
    "cmdline": ((str, list), "a string or a list of words", False, _check_cmdline),
    "xl": (dict, "a mapping of xl options", False, _check_xl),
}


def find_root(path, top=None):
    """The directory package/romfs paths are relative to (see the module docstring)."""
    for d in Path(path).resolve().parents:
        if (d / "go.mod").is_file():
            return d
    if top is not None:
        return Path(top).resolve()
    raise AppConfigError(path, None, "no go.mod at or above the file: package paths are "
                         "relative to the Go module's root")


def kernel_cmdline(network=(), env=(), extra=(), dns=None):
    """The kernel command line: network and dns words, env.KEY=VALUE words, then the extra
    words."""
    words = [w for i, itf in enumerate(network) for w in itf.words(i)]
    words += dns.words() if dns is not None else []
    words += [f"env.{k}={v}" for k, v in env]
    words += list(extra)
    return " ".join(words)


def validate(data, path, top=None):
    """Validate parsed YAML data; return an AppConfig. top: the root when no go.mod is found."""
    if not isinstance(data, dict):
        raise AppConfigError(path, None, "expected a mapping of keys to values at the top level")
    for key in data:
        if key not in FIELDS:
            raise AppConfigError(path, key, f"unknown key (known keys: {', '.join(FIELDS)})")
    values = {}
    for key, (typ, typename, required, check) in FIELDS.items():
        if key not in data or data[key] is None:
            if required:
                raise AppConfigError(path, key, "missing required key")
            continue
        v = data[key]
        if not isinstance(v, typ) or isinstance(v, bool):
            raise AppConfigError(path, key, f"expected {typename}, got {type(v).__name__} {v!r}")
        try:
            values[key] = check(v)
        except ValueError as e:
            msg = str(e)
            if msg.startswith(("[", ".")):  # network[i].key: reason, dns.servers[i]: reason
                sub, _, reason = msg.partition(": ")
                raise AppConfigError(path, key + sub, reason) from None
            raise AppConfigError(path, key, msg) from None
    if "name" not in values:
        try:
            values["name"] = _check_name(Path(path).stem)
        except ValueError as e:
            raise AppConfigError(path, "name", f"missing, and the file name is not a name: {e}") from None
    memory = values.get("memory", parse_size_mib(DEFAULT_MEMORY))
    root = find_root(path, top)
    if not (root / values["package"]).is_dir():
        raise AppConfigError(path, "package", f"no directory {values['package']} under {root}")
    if "romfs" in values and not (root / values["romfs"]).is_dir():
        raise AppConfigError(path, "romfs", f"no directory {values['romfs']} under {root}")
    network, env, extra = values.get("network", ()), values.get("env", ()), values.get("cmdline", ())
    return AppConfig(path=Path(path), name=values["name"], package=values["package"],
                     memory_mib=memory, cmdline=kernel_cmdline(network, env, extra, values.get("dns")),
                     root=root, dns=values.get("dns", DNS()),
                     vcpus=values.get("vcpus", 1), mode=values.get("mode", DEFAULT_MODE),
                     network=network, romfs=values.get("romfs", ""),
                     env=env, extra=extra, xl=values.get("xl", dict(XL_DEFAULTS)))


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
