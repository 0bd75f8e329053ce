"""The registry of check types. The `type:` written in course.yml is the key.

Adding a check is one file in this folder, one line here, and tests in its family's file under
tests/unit/checks/ (test_registry.py fails while none grades it). Modules are imported only when
their type is used.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

from graders.errors import UsageError

if TYPE_CHECKING:
    from graders.checks.base import Check

REGISTRY: dict[str, str] = {
    "advisories_clear": "graders.checks.advisories:AdvisoriesClear",
    "base_image": "graders.checks.base_image:BaseImagePinned",
    "build_secret": "graders.checks.build_secret:BuildSecret",
    "builds": "graders.checks.builds:Builds",
    "carried_from_builder": "graders.checks.carried:CarriedFromBuilder",
    "checkpoint_saved": "graders.checks.checkpoint:CheckpointSaved",
    "ci_published": "graders.checks.ci_published:CiPublished",
    "compose_depends": "graders.checks.compose_depends:DependsHealthy",
    "compose_gpu": "graders.checks.compose_gpu:GpuReservation",
    "compose_healthchecks": "graders.checks.compose_healthchecks:Healthchecks",
    "compose_pinned": "graders.checks.compose_pinned:ImagesPinned",
    "compose_ports": "graders.checks.compose_ports:PrivatePorts",
    "compose_secrets": "graders.checks.compose_secrets:NoPlaintextSecrets",
    "compose_services": "graders.checks.compose_services:ComposeServices",
    "compose_version": "graders.checks.compose_version:NoVersionKey",
    "compose_volumes": "graders.checks.compose_volumes:NamedVolumes",
    "cuda_compatible": "graders.checks.gpu:CudaCompatible",
    "device_logged": "graders.checks.device_logged:DeviceLogged",
    "env_set": "graders.checks.env_set:EnvSet",
    "exec_form": "graders.checks.exec_form:ExecForm",
    "exposed_port": "graders.checks.exposed_port:ExposedPort",
    "files_absent": "graders.checks.files_absent:FilesAbsent",
    "gpu_left_to_run": "graders.checks.gpu_env:GpuLeftToRun",
    "gpu_used": "graders.checks.gpu:GpuUsed",
    "hadolint": "graders.checks.hadolint:HadolintClean",
    "healthcheck": "graders.checks.healthcheck:Healthcheck",
    "http": "graders.checks.http:Http",
    "large_files_absent": "graders.checks.large_files:LargeFilesAbsent",
    "layer_cache": "graders.checks.layer_cache:LayerCache",
    "layer_efficiency": "graders.checks.layer_efficiency:LayerEfficiency",
    "live_ready": "graders.checks.live_ready:LiveReady",
    "metrics_written": "graders.checks.metrics:MetricsWritten",
    "multi_stage": "graders.checks.multi_stage:MultiStage",
    "non_root_user": "graders.checks.non_root:NonRootUser",
    "oci_labels": "graders.checks.oci_labels:OciLabels",
    "paths_absent": "graders.checks.paths_absent:PathsAbsent",
    "persists": "graders.checks.persistence:Persists",
    "pip_no_cache": "graders.checks.pip_cache:PipNoCache",
    "production_hardened": "graders.checks.production_hardened:ProductionHardened",
    "production_serves": "graders.checks.production_serves:ProductionServes",
    "ready_dependency": "graders.checks.ready_dependency:ReadyDependency",
    "sbom_true": "graders.checks.sbom_true:SbomTrue",
    "service_healthy": "graders.checks.service_healthy:ServiceHealthy",
    "size_added": "graders.checks.size_added:SizeAdded",
    "size_vs_baseline": "graders.checks.size_vs_baseline:SizeVsBaseline",
    "stops_on_signal": "graders.checks.stops:StopsOnSignal",
    "survives_preemption": "graders.checks.preemption:SurvivesPreemption",
    "torch_pinned": "graders.checks.torch_pinned:TorchPinned",
    "training_run": "graders.checks.training_run:TrainingRun",
    "volumes_declared": "graders.checks.volumes:VolumesDeclared",
}


def known() -> list[str]:
    return sorted(REGISTRY)


@cache
def get(type_name: str) -> Check:
    """The check instance registered under `type_name`."""
    if type_name not in REGISTRY:
        raise UsageError(f"unknown check type {type_name!r}; known types: {', '.join(known())}")
    module_name, class_name = REGISTRY[type_name].split(":")
    check: Check = getattr(importlib.import_module(module_name), class_name)()
    return check
