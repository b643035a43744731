"""docker-compose.yml validated without a Docker engine.

Debian's ``docker-compose`` parses, interpolates and validates the file offline
(``config -q``); everything it leaves unchecked is checked here against the repository: that
every mounted file and secret exists (or, for the ones an operator creates, that its example
does and would work), that only the board is published beyond loopback, that Prometheus
scrapes every daemon by a name and port that exist in each profile, that Grafana's
provisioning points at what is mounted, and that the configs the daemons get are valid.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy import dockerfile
from tests.deploy.compose_file import (
    ROOT,
    Project,
    Service,
    command_flag,
    compose_config,
    load_project,
)
from tests.support.system import require_binary
from wallboard.config import Settings, load_config
from wallboard.config_types import split_listen

#: Files an operator creates before the first `--profile dialer` start, and the example in the
#: repository each one is made from (the top of docker-compose.yml says how).
OPERATOR_FILES = {
    "wallboard.toml": "wallboard.example.toml",
    "secrets/vicidial_pass": "contrib/compose/vicidial_pass.example",
}
PROFILES = ("demo", "dialer")  # each brings its pair of daemons
IMAGE = "vicidial-wallboard:local"
FINAL = dockerfile.load()[-1]
BOARD_PORT = int(FINAL.last("EXPOSE").value)  # type: ignore[union-attr]
STATE_DIR = FINAL.last("WORKDIR").value  # type: ignore[union-attr]
CONFIG_PATH = FINAL.last("CMD").exec_form()[-1]  # type: ignore[union-attr]
IMAGE_ENV = FINAL.env()


@pytest.fixture(scope="module")
def compose() -> str:
    return require_binary("docker-compose", package="docker-compose")


@pytest.fixture(scope="module")
def project(compose: str, tmp_path_factory: pytest.TempPathFactory) -> Project:
    return load_project(compose, tmp_path_factory.mktemp("compose"))


def daemons(project: Project, profile: str) -> dict[str, Service]:
    """The profile's wallboard daemons: our image, running its default command."""
    return {
        name: service
        for name, service in project.active(profile).items()
        if service.image == IMAGE and service.command is None
    }


def operator_file(path: str) -> Path:
    """A host path as it will exist on a site: the repository's file, or the example an
    operator copies it from."""
    if path in OPERATOR_FILES:
        example = ROOT / OPERATOR_FILES[path]
        assert example.is_file(), f"{path} is made from {example}, which is missing"
        return example
    return ROOT / path


# --- Compose itself --------------------------------------------------------------------------


@pytest.mark.parametrize("profile", [None, *PROFILES])
def test_compose_validates_the_file(compose: str, tmp_path: Path, profile: str | None) -> None:
    result = compose_config(compose, tmp_path, profile=profile, quiet=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # e.g. "variable is not set" warnings


def test_compose_reads_the_example_env_file_without_warnings(compose: str, tmp_path: Path) -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    project = load_project(compose, tmp_path, dotenv=example)
    assert project.stderr.strip() == ""
    assert project.services["grafana"].environment["GF_SECURITY_ADMIN_PASSWORD"] == ""
    chosen = load_project(compose, tmp_path, dotenv="GRAFANA_ADMIN_PASSWORD=s3cret-from-env\n")
    assert chosen.services["grafana"].environment["GF_SECURITY_ADMIN_PASSWORD"] == (
        "s3cret-from-env"
    )


# --- files -----------------------------------------------------------------------------------


def test_every_bind_mount_and_secret_file_exists(project: Project) -> None:
    for service in project.services.values():
        for mount in service.mounts:
            if mount.kind == "bind":
                assert operator_file(mount.source).exists(), f"{service.name}: {mount.source}"
                assert mount.read_only, f"{service.name} may write {mount.source}"
            else:
                assert mount.source in project.volumes, f"{service.name}: volume {mount.source}"
        for secret in service.secrets:
            assert secret in project.secrets, f"{service.name}: undeclared secret {secret}"
    for name, file in project.secrets.items():
        assert file in OPERATOR_FILES, f"secret {name}: {file} must be an operator's file"
        assert operator_file(file).is_file()


def test_operator_files_never_reach_git_or_an_image() -> None:
    for path in (*OPERATOR_FILES, ".env"):
        assert dockerfile.ignored(path), f"{path} is not in .dockerignore"
    ignored = _git_ignored([*OPERATOR_FILES, ".env"])
    assert ignored == {*OPERATOR_FILES, ".env"}, "add them to .gitignore"


def _git_ignored(paths: list[str]) -> set[str]:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", *paths],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    return set(result.stdout.split())


def test_every_daemon_keeps_its_state_in_its_own_volume(project: Project) -> None:
    for profile in PROFILES:
        seen: set[str] = set()
        for service in daemons(project, profile).values():
            state = service.mount_at(STATE_DIR)
            assert state is not None, service.name
            assert state.kind == "volume", service.name
            assert state.target == STATE_DIR
            assert not state.read_only
            assert state.source not in seen, f"{service.name} shares {state.source}"
            seen.add(state.source)
            config = service.mount_at(CONFIG_PATH)
            assert config is not None, service.name
            assert config.target == CONFIG_PATH, service.name


def test_redis_persists_with_an_append_only_file(project: Project) -> None:
    redis = project.services["redis"]
    assert redis.command is not None
    assert command_flag(redis.command, "--appendonly") == "yes"
    data = redis.mount_at("/data")
    assert data is not None
    assert data.kind == "volume"
    assert redis.healthcheck is not None


# --- ports and names -------------------------------------------------------------------------


@pytest.mark.parametrize("profile", [None, *PROFILES])
def test_only_the_board_is_published_beyond_loopback(project: Project, profile: str | None) -> None:
    published: list[int] = []
    for service in project.active(profile).values():
        for port in service.ports:
            published.append(port.published)
            if port.host_ip != "127.0.0.1":
                assert service.name in daemons(project, profile or ""), (
                    f"{service.name} publishes {port.published} on every interface"
                )
                assert (port.published, port.target) == (BOARD_PORT, BOARD_PORT)
    assert len(published) == len(set(published)), f"one host port twice: {published}"
    for quiet in ("redis", "simulator"):
        unpublished = project.active(profile).get(quiet)
        assert unpublished is None or not unpublished.ports, f"{quiet} needs no published port"


@pytest.mark.parametrize("profile", PROFILES)
def test_each_profile_runs_a_pair_under_the_names_prometheus_scrapes(
    project: Project, profile: str
) -> None:
    pair = daemons(project, profile)
    assert len(pair) == 2
    names = project.hostnames(profile)
    assert {"wallboard-a", "wallboard-b"} <= set(names)
    assert {names["wallboard-a"].name, names["wallboard-b"].name} == set(pair)
    boards = [p for s in pair.values() for p in s.ports if p.host_ip == ""]
    assert len(boards) == 1, "one board on the floor LAN per profile"


def test_the_profiles_do_not_share_a_daemon(project: Project) -> None:
    demo, dialer = (set(daemons(project, p)) for p in PROFILES)
    assert not demo & dialer
    assert not daemons(project, "no-such-profile"), "a daemon without a profile runs in both"


@pytest.mark.parametrize("profile", PROFILES)
def test_prometheus_scrapes_every_daemon_and_loads_its_rules(
    project: Project, profile: str
) -> None:
    prometheus = project.services["prometheus"]
    assert prometheus.command is not None
    config_file = command_flag(prometheus.command, "--config.file")
    assert config_file is not None
    config_mount = prometheus.mount_at(config_file)
    assert config_mount is not None
    assert config_mount.kind == "bind"
    host_file = (
        ROOT / config_mount.source / PurePosixPath(config_file).relative_to(config_mount.target)
    )
    assert host_file.is_file(), host_file
    config = yaml.safe_load(host_file.read_text(encoding="utf-8"))
    for rule_file in config.get("rule_files") or []:
        assert (host_file.parent / rule_file).is_file(), f"rule_files: {rule_file}"
    assert config.get("rule_files"), "the alerting rules are not loaded"
    names = project.hostnames(profile)
    scraped: set[str] = set()
    for job in config["scrape_configs"]:
        for static in job.get("static_configs") or []:
            for target in static["targets"]:
                host, _, port = target.rpartition(":")
                assert host in names, f"{job['job_name']} scrapes {host}: no such service"
                service = names[host]
                if service.image == IMAGE:
                    assert int(port) == BOARD_PORT, target
                scraped.add(service.name)
    assert set(daemons(project, profile)) <= scraped, "an instance Prometheus never scrapes"
    storage = command_flag(prometheus.command, "--storage.tsdb.path")
    assert storage is not None
    assert prometheus.mount_at(storage) is not None


def test_grafana_provisioning_matches_its_mounts(project: Project) -> None:
    grafana = project.services["grafana"]
    provisioning = grafana.mount_at("/etc/grafana/provisioning")
    assert provisioning is not None
    assert provisioning.target == "/etc/grafana/provisioning"
    host = ROOT / provisioning.source
    providers = [
        provider
        for file in sorted((host / "dashboards").glob("*.y*ml"))
        for provider in yaml.safe_load(file.read_text(encoding="utf-8"))["providers"]
    ]
    assert providers, "no dashboard provider: the dashboard would not be there at first start"
    for provider in providers:
        path = provider["options"]["path"]
        mount = grafana.mount_at(path)
        assert mount is not None, f"provider path {path} is not mounted"
        assert mount.kind == "bind", path
        dashboards = ROOT / mount.source / PurePosixPath(path).relative_to(mount.target)
        assert sorted(dashboards.glob("*.json")), f"no dashboard in {dashboards}"
    sources = [
        source
        for file in sorted((host / "datasources").glob("*.y*ml"))
        for source in yaml.safe_load(file.read_text(encoding="utf-8"))["datasources"]
    ]
    prometheus = project.services["prometheus"]
    for source in sources:
        url = urlsplit(source["url"])
        assert url.hostname in project.hostnames(None), source["url"]
        assert url.hostname == "prometheus"
        assert url.port in {p.target for p in prometheus.ports}, source["url"]


# --- images ----------------------------------------------------------------------------------


def test_images_are_pinned(project: Project) -> None:
    for service in project.services.values():
        name, _, tag = service.image.rpartition(":")
        assert name, f"{service.name}: {service.image}"
        assert tag not in ("", "latest"), f"{service.name}: {service.image}"
    assert re.fullmatch(r"prom/prometheus:v\d+\.\d+\.\d+", project.services["prometheus"].image)
    assert project.services["redis"].image == "redis:7-alpine"


def test_grafana_runs_the_version_the_dashboard_is_generated_for(project: Project) -> None:
    image = project.services["grafana"].image
    match = re.fullmatch(r"grafana/grafana:(\d+)\.(\d+)\.\d+", image)
    assert match, image
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = pyproject["project"]["optional-dependencies"]
    (pin,) = extras["dashboards"]
    sdk = re.fullmatch(r"grafana-foundation-sdk==\d+!(\d+)\.(\d+)\.\d+", pin)
    assert sdk, pin
    assert sdk.groups() == match.groups(), f"{pin} generates for another Grafana than {image}"
    assert pin in extras["dev"], "make test checks the dashboard with the same SDK"


# --- what the daemons are given --------------------------------------------------------------


def service_settings(project: Project, service: Service, tmp_path: Path) -> Settings:
    """The daemon's settings as the container would load them: the mounted config file, the
    image's environment and the service's, with secret paths mapped to the host files."""
    config = service.mount_at(CONFIG_PATH)
    assert config is not None
    source = operator_file(config.source)
    if config.source in OPERATOR_FILES:
        source = _as_operator_would_write(source, service, tmp_path)
    environ = {**IMAGE_ENV, **service.environment}
    for key, value in environ.items():
        if value.startswith("/run/secrets/"):
            name = PurePosixPath(value).name
            assert name in service.secrets, f"{key}: {name} is not given to {service.name}"
            environ[key] = str(operator_file(project.secrets[name]))
    return load_config(source, environ=environ)


def _as_operator_would_write(example: Path, service: Service, tmp_path: Path) -> Path:
    """wallboard.example.toml as the top of docker-compose.yml says to copy it: without
    ``pass`` when the service hands the password over as a file."""
    text = example.read_text(encoding="utf-8")
    if "WALLBOARD_VICIDIAL__PASS_FILE" in service.environment:
        text = re.sub(r"(?m)^pass = .*\n", "", text, count=1)
    copy = tmp_path / f"{service.name}.toml"
    copy.write_text(text, encoding="utf-8")
    return copy


@pytest.mark.parametrize("profile", PROFILES)
def test_every_daemon_gets_a_valid_config_that_fits_the_stack(
    project: Project, profile: str, tmp_path: Path
) -> None:
    names = project.hostnames(profile)
    for service in daemons(project, profile).values():
        settings = service_settings(project, service, tmp_path)
        host, port = split_listen(settings.web.listen)
        assert (host, port) == ("0.0.0.0", BOARD_PORT), service.name
        assert {p.target for p in service.ports} == {BOARD_PORT}
        assert settings.cache.backend == "redis", "two instances share one snapshot"
        redis = urlsplit(settings.cache.redis_url)
        assert redis.hostname in names
        assert names[redis.hostname].name == "redis"
        assert "redis" in service.depends_on
        state = settings.state.path
        state = state if state.is_absolute() else Path(STATE_DIR) / state
        assert state.parent == Path(STATE_DIR), f"{service.name}: state outside its volume"
        assert settings.vicidial.password()  # read from the (example) secret file or the demo
        if profile == "demo":
            url = urlsplit(settings.vicidial.url)
            assert url.hostname in names
            assert names[url.hostname].name == "simulator"
            assert "simulator" in service.depends_on
            assert settings.cache.key_prefix != "wallboard", "demo data mixed with a site's"


def test_the_dialer_pair_reads_the_password_from_the_secret(project: Project) -> None:
    for service in daemons(project, "dialer").values():
        assert service.environment.get("WALLBOARD_VICIDIAL__PASS_FILE") == (
            "/run/secrets/vicidial_pass"
        )
        assert "vicidial_pass" in service.secrets
        assert not any(
            "PASS=" in f"{k}={v}" or k.endswith(("__PASS", "__TOKEN"))
            for k, v in service.environment.items()
        ), "a password in the environment shows in `docker inspect`"


def test_the_demo_simulator_is_healthy_where_the_daemons_look(project: Project) -> None:
    from tests.deploy.demo_simulator import demo_module

    simulator = project.services["simulator"]
    assert simulator.profiles == ("demo",)
    assert simulator.command is not None
    script = simulator.command[-1]
    mount = simulator.mount_at(script)
    assert mount is not None
    assert (ROOT / mount.source).is_file()
    assert mount.source == "contrib/compose/demo_simulator.py"
    module = demo_module()
    assert simulator.healthcheck is not None
    assert f"127.0.0.1:{module.PORT}/" in " ".join(simulator.healthcheck)
    demo_config = tomllib.loads((ROOT / "contrib/compose/demo.toml").read_text(encoding="utf-8"))
    assert urlsplit(demo_config["vicidial"]["url"]).port == module.PORT
