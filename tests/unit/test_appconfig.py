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
    cfg = appconfig.load(write(project, GOOD + "cmdline: quiet debug\n"), top=project)
    assert (cfg.name, cfg.package, cfg.memory_mib, cfg.cmdline) == ("demo", "./apps/demo", 32, "quiet debug")


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
    ("cmdline", GOOD + "cmdline: {a: b}\n"),
    ("vcpus", GOOD + "vcpus: two\n"),
    ("network", GOOD + "network: {ip: dhcp}\n"),
    ("env", GOOD + "env: [A]\n"),
    ("xl", GOOD + "xl: destroy\n"),
])
def test_bad_type(project, key, text):
    e = error(project, text)
    assert e.key == key and "expected" in str(e)


@pytest.mark.parametrize("key", ["version", "package"])
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


def test_defaults(project):
    cfg = appconfig.load(write(project, "version: 1\npackage: ./apps/demo\n"), top=project)
    assert (cfg.name, cfg.memory_mib, cfg.vcpus, cfg.cmdline, cfg.network, cfg.romfs) == \
        ("demo", 32, 1, "", (), "")
    assert cfg.xl == {"on_poweroff": "destroy", "on_reboot": "destroy", "on_crash": "destroy"}
    assert cfg.vif_line() == ""
    assert cfg.mode == "pvh"   # the default


FULL = GOOD + """\
vcpus: 2
mode: pv
romfs: ./apps/demo
network:
  - ip: 10.0.0.2/24
    gateway: 10.0.0.1
    mac: 00:16:3E:00:00:02
  - ip: dhcp
    bridge: br1
    ip6: fd00:1::2/64
    gateway6: fe80::1
env:
  KV_MEMORY: 16M
  PORT: 11211
cmdline: [quiet]
xl:
  on_crash: preserve
"""


def test_full_config_and_cmdline(project):
    cfg = appconfig.load(write(project, FULL), top=project)
    assert cfg.vcpus == 2 and cfg.mode == "pv" and cfg.romfs_dir == (project / "apps" / "demo").resolve()
    assert cfg.cmdline == ("ip=10.0.0.2/24 gw=10.0.0.1 ip1=dhcp ip61=fd00:1::2/64 gw61=fe80::1 "
                           "env.KV_MEMORY=16M env.PORT=11211 quiet")
    assert cfg.vif_line() == "[ 'mac=00:16:3e:00:00:02,bridge=xenbr0', 'bridge=br1' ]"
    assert cfg.xl["on_crash"] == "preserve" and cfg.xl["on_poweroff"] == "destroy"


@pytest.mark.parametrize("key,frag,reason", [
    ("network[0].ip", "network: [{ip: 10.0.0.300/24}]", "bad address"),
    ("network[0].ip", "network: [{ip: 10.0.0.2}]", "prefix"),
    ("network[0].ip", "network: [{ip: 10.0.0.0/24}]", "network address"),
    ("network[0].ip", "network: [{gateway: 10.0.0.1}]", "missing"),
    ("network[0].gateway", "network: [{ip: 10.0.0.2/24, gateway: 10.0.1.1}]", "not in"),
    ("network[0].gateway", "network: [{ip: dhcp, gateway: 10.0.0.1}]", "dhcp"),
    ("network[0].mac", "network: [{ip: dhcp, mac: '01:00:00:00:00:01'}]", "multicast"),
    ("network[0].mac", "network: [{ip: dhcp, mac: 'zz'}]", "bad MAC"),
    ("network[0].speed", "network: [{ip: dhcp, speed: fast}]", "unknown key"),
    ("network[0].ip6", "network: [{ip: dhcp, ip6: 'fd00::2'}]", "prefix"),
    ("network[0].ip6", "network: [{ip: dhcp, ip6: 10.0.0.2/24}]", "bad address"),
    ("network[0].ip6", "network: [{ip: dhcp, ip6: 'ff02::1/64'}]", "not a unicast"),
    ("network[0].gateway6", "network: [{ip: dhcp, gateway6: 'fe80::1'}]", "static ip6"),
    ("network[0].gateway6", "network: [{ip: dhcp, ip6: 'fd00::2/64', gateway6: 'fd01::1'}]", "neither"),
    ("cmdline", "cmdline: 'ip6=off'", "network:"),
    ("cmdline", "cmdline: 'gw61=fe80::1'", "network:"),
    ("env", "env: {1X: a}", "bad variable name"),
    ("env", "env: {X: 'a b'}", "one word"),
    ("cmdline", "cmdline: 'env.X=1'", "env:"),
    ("dns.servers[1]", "dns: {servers: [10.0.0.1, nine]}", "bad address"),
    ("dns.search[0]", "dns: {search: [-x.example]}", "bad domain"),
    ("dns.servers", "dns: {servers: [1.1.1.1, 1.0.0.1, 8.8.8.8, 8.8.4.4]}", "at most 3"),
    ("dns.port", "dns: {port: 53}", "unknown key"),
    ("cmdline", "cmdline: 'dns=1.1.1.1'", "dns:"),
    ("xl", "xl: {on_crash: explode}", "bad action"),
    ("xl", "xl: {maxmem: 64}", "unknown xl option"),
    ("vcpus", "vcpus: 0", "bad vcpus"),
    ("vcpus", "vcpus: 17", "bad vcpus 17 (1 to 16"),
    ("mode", "mode: hvm", "pv or pvh"),
    ("romfs", "romfs: ./nothere", "no directory"),
    ("romfs", "romfs: ./apps/../apps", "'..'"),
])
def test_bad_values_name_key_and_reason(project, key, frag, reason):
    e = error(project, GOOD + frag + "\n")
    assert e.key == key and reason in e.reason, str(e)
    assert str(e).startswith(f"{e.path}: {key}: ")


def test_root_is_the_go_module(tmp_path):
    (tmp_path / "go.mod").write_text("module x\n")
    (tmp_path / "cmd" / "app").mkdir(parents=True)
    (tmp_path / "deploy").mkdir()
    path = tmp_path / "deploy" / "app.yaml"
    path.write_text("version: 1\npackage: ./cmd/app\n")
    cfg = appconfig.load(path)
    assert cfg.root == tmp_path.resolve() and cfg.package_dir == (tmp_path / "cmd" / "app").resolve()


@pytest.mark.parametrize("name", ["hello", "kvstore", "httpd"])
def test_repo_configs_are_valid(repo, name):
    cfg = appconfig.load(repo / "configs" / f"{name}.yaml", top=repo)
    assert cfg.name == name


def test_ip6_words(project):
    cfg = appconfig.load(write(project, GOOD + "network: [{ip: dhcp, ip6: off}, {ip: dhcp, ip6: auto}]\n"),
                         top=project)
    assert cfg.cmdline == "ip=dhcp ip6=off ip1=dhcp ip61=auto"


def test_dns_words(project):
    cfg = appconfig.load(write(project, GOOD + "network: [{ip: dhcp}]\n"
                               "dns: {servers: [10.0.0.1, 1.1.1.1], search: [example.test, lan]}\n"),
                         top=project)
    assert cfg.cmdline == "ip=dhcp dns=10.0.0.1,1.1.1.1 search=example.test,lan"
    assert cfg.dns.servers == ("10.0.0.1", "1.1.1.1")
