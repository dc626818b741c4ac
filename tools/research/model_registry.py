"""Trained models in MLflow's model registry: each training registers a new version of its
model name (its files logged as the artifacts of a run in the `models` experiment), aliases
name the versions the desk uses (`candidate` for the newest, `champion`, `paper`, `live` as
people promote them), and a strategy loads a model by alias (`models:/mlp@champion`), so a
promotion changes what trades without touching the strategy.

The registry is the tracking store's (SQLite under data_dir by default, or
QUANTDESK_MLFLOW_TRACKING_URI); a loaded version is copied once under
`<data_dir>/models/registry/<name>/<version>`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from core.settings import Settings

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

ALIAS_URI = re.compile(r"^models:/(?P<name>[A-Za-z0-9_.-]+)@(?P<alias>[A-Za-z0-9_-]+)$")
EXPERIMENT = "models"


class ModelRegistryError(LookupError):
    """No such model, version or alias; the message says which."""


class ModelVersionRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    aliases: list[str]
    run_id: str
    data_version: str | None = None

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def is_alias_uri(text: str) -> bool:
    return ALIAS_URI.match(text) is not None


class ModelRegistry:
    def __init__(self, settings: Settings) -> None:
        # mlflow takes seconds to import: it loads when a model is registered or resolved.
        from mlflow.tracking import MlflowClient

        self.settings = settings
        uri = settings.resolved_tracking_uri
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.client: MlflowClient = MlflowClient(tracking_uri=uri, registry_uri=uri)

    def _experiment(self) -> str:
        found = self.client.get_experiment_by_name(EXPERIMENT)
        if found is not None:
            return str(found.experiment_id)
        artifacts = (self.settings.data_dir / "mlartifacts").resolve().as_uri()
        return str(self.client.create_experiment(EXPERIMENT, artifact_location=artifacts))

    def register(
        self, model_dir: Path, name: str, tags: dict[str, str], alias: str | None = "candidate"
    ) -> ModelVersionRef:
        """`model_dir`'s files as a new version of `name`, optionally given `alias`."""
        from mlflow.exceptions import MlflowException

        run = self.client.create_run(self._experiment(), run_name=f"{name}-train", tags=tags)
        run_id = str(run.info.run_id)
        self.client.log_artifacts(run_id, str(model_dir), artifact_path="model")
        self.client.set_terminated(run_id)
        try:
            self.client.create_registered_model(name)
        except MlflowException as exc:
            if "already exists" not in str(exc).lower():
                raise
        version = self.client.create_model_version(
            name, source=f"{run.info.artifact_uri}/model", run_id=run_id, tags=tags
        )
        if alias is not None:
            self.client.set_registered_model_alias(name, alias, version.version)
        return self.version(name, str(version.version))

    def version(self, name: str, version: str) -> ModelVersionRef:
        from mlflow.exceptions import MlflowException

        try:
            found = self.client.get_model_version(name, version)
        except MlflowException as exc:
            raise ModelRegistryError(f"no version {version} of model {name!r}") from exc
        return ModelVersionRef(
            name=name, version=str(found.version), aliases=list(found.aliases),
            run_id=str(found.run_id), data_version=found.tags.get("data_version"),
        )  # fmt: skip

    def set_alias(self, name: str, alias: str, version: str) -> ModelVersionRef:
        """Point `alias` of `name` at `version` (moving it from any other version)."""
        self.version(name, version)  # refuses an unknown model or version first
        self.client.set_registered_model_alias(name, alias, version)
        return self.version(name, version)

    def by_alias(self, name: str, alias: str) -> ModelVersionRef:
        from mlflow.exceptions import MlflowException

        try:
            found = self.client.get_model_version_by_alias(name, alias)
        except MlflowException as exc:
            raise ModelRegistryError(f"model {name!r} has no alias {alias!r}") from exc
        return self.version(name, str(found.version))

    def versions(self, name: str) -> list[ModelVersionRef]:
        found = self.client.search_model_versions(f"name = '{name}'")
        # Each version fetched again: a search's results carry no aliases.
        return sorted(
            (self.version(name, str(v.version)) for v in found), key=lambda r: int(r.version)
        )

    def local_dir(self, ref: ModelVersionRef) -> Path:
        """The version's files on this machine (copied from the artifact store once)."""
        from mlflow.artifacts import download_artifacts

        target = self.settings.data_dir / "models" / "registry" / ref.name / ref.version
        if (target / "model" / "metadata.json").exists():
            return target / "model"
        target.mkdir(parents=True, exist_ok=True)
        source = self.client.get_model_version(ref.name, ref.version).source
        return Path(download_artifacts(artifact_uri=source, dst_path=str(target)))

    def resolve(self, uri: str) -> Path:
        """The local directory of the version `models:/<name>@<alias>` names now."""
        match = ALIAS_URI.match(uri)
        if match is None:
            raise ModelRegistryError(f"{uri!r} is not models:/<name>@<alias>")
        return self.local_dir(self.by_alias(match["name"], match["alias"]))
