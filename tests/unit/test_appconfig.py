"""configs/NAME.yaml validation: errors name the file, the key and the reason."""

import pytest

from goxen import appconfig
from goxen.appconfig import AppConfigError

GOOD = "version: 1\nname: demo\npackage: ./apps/demo\nmemory: 32M\n"


@pytest.fixture
def project(tmp_path):
    (tmp_path / "apps" / "demo").mkdir(parents=True)
    (tmp_path / "configs").mkdir()
    return tmp_path


def write(project, text, name="demo.yaml"):
    path = project / "configs" / name
    path.write_text(text)
    return path


def error(project, text):
    path = write(project, text)
    with pytest.raises(AppConfigError) as e:
        appconfig.load(path, top=project)
    assert str(path) in str(e.value)
    return e.value


def test_good_config(project):
    cfg = appconfig.load(write(project, GOOD + "cmdline: ip=dhcp\n"), top=project)
    assert (cfg.name, cfg.package, cfg.memory_mib, cfg.cmdline) == ("demo", "./apps/demo", 32, "ip=dhcp")


def test_hello_config_in_repo_is_valid(repo):
    cfg = appconfig.load(repo / "configs" / "hello.yaml", top=repo)
    assert cfg.name == "hello" and cfg.package == "./apps/hello"


def test_unknown_key(project):
    e = error(project, GOOD + "memroy: 64M\n")
    assert e.key == "memroy" and "unknown key" in str(e)


@pytest.mark.parametrize("size", ["32X", "32", "3.5M", "-1M", "2M", "M", "32 MB"])
def test_bad_size(project, size):
    e = error(project, GOOD.replace("32M", f'"{size}"'))
    assert e.key == "memory" and "bad size" in str(e)


def test_sizes():
    assert appconfig.parse_size_mib("64M") == 64
    assert appconfig.parse_size_mib("1G") == 1024


@pytest.mark.parametrize("key,text", [
    ("memory", GOOD.replace("32M", "32")),
    ("name", GOOD.replace("name: demo", "name: 5")),
    ("version", GOOD.replace("version: 1", "version: one")),
    ("version", GOOD.replace("version: 1", "version: true")),
    ("cmdline", GOOD + "cmdline: [a, b]\n"),
])
def test_bad_type(project, key, text):
    e = error(project, text)
    assert e.key == key and "expected" in str(e)


@pytest.mark.parametrize("key", ["version", "name", "package", "memory"])
def test_missing_key(project, key):
    text = "".join(l + "\n" for l in GOOD.splitlines() if not l.startswith(key + ":"))
    e = error(project, text)
    assert e.key == key and "missing" in str(e)


def test_wrong_version(project):
    e = error(project, GOOD.replace("version: 1", "version: 2"))
    assert e.key == "version" and "version 2" in str(e)


def test_bad_name_and_package(project):
    assert error(project, GOOD.replace("name: demo", "name: Demo!")).key == "name"
    assert error(project, GOOD.replace("./apps/demo", "apps/demo")).key == "package"
    assert error(project, GOOD.replace("./apps/demo", "./apps/none")).key == "package"


def test_not_a_mapping_and_bad_yaml(project):
    assert "mapping" in str(error(project, "- a\n- b\n"))
    assert "line 2: invalid YAML" in str(error(project, "version: 1\nname: a: b\n"))


def test_missing_file_names_file_and_lists_apps(project):
    write(project, GOOD)
    with pytest.raises(AppConfigError) as e:
        appconfig.find("nosuch", project / "configs")
    assert "nosuch.yaml" in str(e.value) and "available apps: demo" in str(e.value)
    with pytest.raises(AppConfigError) as e:
        appconfig.load(project / "configs" / "gone.yaml")
    assert "gone.yaml" in str(e.value) and "no such file" in str(e.value)


def test_find_by_name_and_path(project):
    path = write(project, GOOD)
    assert appconfig.find("demo", project / "configs") == path
    assert appconfig.find("x/other.yaml", project / "configs").name == "other.yaml"
    assert appconfig.list_apps(project / "configs") == ["demo"]
