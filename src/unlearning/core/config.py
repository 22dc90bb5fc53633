"""params.yaml -> frozen dataclasses. The one place where keys are read and checked.

Every key must be present (no silent defaults: a typo would otherwise run the wrong experiment),
unknown keys are rejected, and every error names the full dotted key and what is allowed.
"""
from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

# dataset -> number of classes. The last four come with an official train/test split (test_fraction: null).
DATASET_CLASSES = {"mnist-5k": 10, "digits": 10, "fashion-mnist-5k": 10, "fashion-mnist": 10, "mnist": 10,
                   "emnist": 47, "cifar10": 10}
OFFICIAL_SPLIT = ("fashion-mnist", "mnist", "emnist", "cifar10")
DATASETS = tuple(DATASET_CLASSES)
SCENARIOS = ("replace_class", "forget_class", "forget_subset")
ARCHS = ("mlp", "cnn", "resnet18")
DEVICES = ("auto", "cpu", "cuda")
EXECUTORS = ("local", "dask")


class ConfigError(ValueError):
    """A bad params value. `key` is the dotted path of the offending key."""

    def __init__(self, key: str, message: str):
        super().__init__(f"params: {key}: {message}")
        self.key, self.message = key, message

    def __reduce__(self):  # raised in a parallel_map worker, it is pickled back to the stage process
        return ConfigError, (self.key, self.message)


def require(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ConfigError(key, message)


def positive(obj, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        require(value > 0, name, f"must be > 0, got {value!r}")


@dataclass(frozen=True)
class FitConfig:
    """Settings of one call of the shared training loop (Adam, index batching)."""

    epochs: int  # passes over the training tensors
    batch_size: int  # samples per optimiser step
    lr: float  # Adam learning rate

    def __post_init__(self):
        positive(self, "epochs", "batch_size", "lr")


@dataclass(frozen=True)
class SGDConfig(FitConfig):
    """FitConfig whose fit runs SGD with momentum (the methods whose source trains with SGD); lr is SGD's."""

    momentum: float  # heavy-ball momentum in [0, 1)

    def __post_init__(self):
        super().__post_init__()
        require(0 <= self.momentum < 1, "momentum", f"must be in [0, 1), got {self.momentum!r}")


@dataclass(frozen=True)
class AugmentConfig:
    """On-device augmentation of every training batch (vectorised, seeded by the fit's generator)."""

    pad: int  # random crop: pad by this many pixels, crop back at a random offset; 0 = no crop
    flip: bool  # random horizontal flip with probability 1/2 (CIFAR-10 yes, digits no)

    def __post_init__(self):
        require(self.pad >= 0, "pad", f"must be >= 0, got {self.pad!r}")


@dataclass(frozen=True)
class TrainConfig(FitConfig):
    """The fit settings of pretraining and the retrain oracle, plus their augmentation."""

    augment: AugmentConfig


@dataclass(frozen=True)
class ToleranceConfig:
    """How far a model's mean may lie from the retrains' mean and still count as the same (the equivalence margin
    of unlearning.equivalence): a difference is flagged only when it is shown to exceed this."""

    forget_acc: float  # accuracies are shares in [0, 1]: 0.01 = one point
    retain_acc: float
    new_acc: float
    test_acc: float
    mia_efficacy: float
    mia_loss_auc: float
    probe_recall: float
    relearn_auc: float  # every relearn_auc_k<K>

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            require(0 <= value < 1, f.name, f"must be in [0, 1), got {value!r}")

    def of(self, metric: str) -> float:
        return getattr(self, "relearn_auc" if metric.startswith("relearn_auc") else metric)


@dataclass(frozen=True)
class AuditConfig:
    """How many independent draws of all training randomness the verdicts rest on. Chain i: an original model
    pretrained from its own initialisation, every method's unlearned model made from it, and a retrain from an
    independent initialisation; "unlearned ~ retrained" is judged between the two distributions over chains."""

    chains: int  # independent chains (>= 2); model, metric and score distributions are over these
    attack_chains: int  # the first K chains also get the relearn attack (the expensive one); 2 <= K <= chains
    probe_draws: int  # few-shot draws of the representation probe, averaged per model and chain
    split: str  # what the models are scored on: test (results) or val (tuning: bench sweeps never read test)
    tolerance: ToleranceConfig  # per metric, the difference to the retrains that matters
    pass_share: float  # a model passes when its forgetting score is >= this share of the ceiling (and all else is
                       # equivalent)

    def __post_init__(self):
        require(0 < self.pass_share <= 1, "pass_share", f"must be in (0, 1], got {self.pass_share!r}")
        require(self.split in ("test", "val"), "split", f"must be test or val, got {self.split!r}")
        require(self.chains >= 2, "chains", f"must be an integer >= 2 (a distribution needs two draws), "
                                            f"got {self.chains!r}")
        require(2 <= self.attack_chains <= self.chains, "attack_chains",
                f"must be an integer from 2 to chains ({self.chains}), got {self.attack_chains!r}")
        require(self.probe_draws >= 1, "probe_draws", f"must be >= 1, got {self.probe_draws!r}")


@dataclass(frozen=True)
class DatasetConfig:
    """Which dataset, and its test split."""

    name: str  # one of DATASETS
    # stratified share held out as the test split; null for datasets with an official split (OFFICIAL_SPLIT)
    test_fraction: float | None

    def __post_init__(self):
        require(self.name in DATASETS, "name", f"unknown dataset {self.name!r}; allowed: {', '.join(DATASETS)}")
        if self.name in OFFICIAL_SPLIT:
            require(self.test_fraction is None, "test_fraction",
                    f"{self.name} has an official test split: set test_fraction: null, got {self.test_fraction!r}")
        else:
            require(self.test_fraction is not None and 0 < self.test_fraction < 1, "test_fraction",
                    f"must be in (0, 1) for {self.name}, got {self.test_fraction!r}")


@dataclass(frozen=True)
class DataConfig(DatasetConfig):
    """The image pipeline's data: the dataset, and the validation split its tuning scores on."""

    # stratified share of the training split held out for tuning (bench sweeps score on it, never on test)
    validation_fraction: float

    def __post_init__(self):
        super().__post_init__()
        require(0 < self.validation_fraction < 0.5, "validation_fraction",
                f"must be in (0, 0.5), got {self.validation_fraction!r}")


@dataclass(frozen=True)
class ScenarioConfig:
    """What is forgotten. replace_class: forget a class and learn a new one in its output slot (study A);
    forget_class: forget a whole class, its slot stays and the oracle never trains it (study B);
    forget_subset: forget a random share of one class's training images, the rest stays (study C)."""

    kind: str  # one of SCENARIOS
    pretrain_classes: tuple[int, ...]  # labels the original model is trained on
    forget: int  # the class forgotten (wholly, or the class the forgotten subset is drawn from)
    learn: int | None  # replace_class only: class learned in the forgotten class's slot; null otherwise
    forget_fraction: float  # forget_subset: share of the class's training images forgotten; 1.0 for class kinds

    def __post_init__(self):
        require(self.kind in SCENARIOS, "kind", f"unknown scenario {self.kind!r}; allowed: {', '.join(SCENARIOS)}")
        classes = self.pretrain_classes
        require(len(classes) >= 2 and len(set(classes)) == len(classes), "pretrain_classes",
                f"needs at least two distinct labels, got {list(classes)}")
        require(self.forget in classes, "forget",
                f"class {self.forget} is not among pretrain_classes {list(classes)}")
        if self.kind == "replace_class":
            require(self.learn is not None and self.learn not in classes, "learn",
                    f"class {self.learn} is already among pretrain_classes {list(classes)}; "
                    "pick a class the model never saw")
        else:
            require(self.learn is None, "learn", f"must be null for {self.kind} (only replace_class learns a class)")
        if self.kind == "forget_subset":
            require(0 < self.forget_fraction < 1, "forget_fraction",
                    f"must be in (0, 1) for forget_subset, got {self.forget_fraction!r}")
        else:
            require(self.forget_fraction == 1.0, "forget_fraction",
                    f"must be 1.0 for {self.kind} (the whole class is forgotten), got {self.forget_fraction!r}")

    @property
    def known_classes(self) -> tuple[int, ...]:
        """Every label some model of the experiment is trained on (pretrain classes and the learned class)."""
        return tuple(sorted({*self.pretrain_classes, *([] if self.learn is None else [self.learn])}))

    @property
    def num_slots(self) -> int:
        return len(self.pretrain_classes)

    def slot(self, label: int) -> int:
        """Output slot of a label; a learned class takes the forgotten class's slot."""
        ordered = sorted(self.pretrain_classes)
        return ordered.index(self.forget if label == self.learn else label)


@dataclass(frozen=True)
class ModelConfig:
    arch: str  # one of ARCHS
    # widths of the fully connected hidden layers before the head: the whole MLP (the source studies' family),
    # after the conv trunk of cnn and resnet18 ([] = head directly on the pooled features)
    hidden: tuple[int, ...]
    channels: tuple[int, ...]  # cnn: conv widths, one 2x-downsampling stage each; [] for mlp and resnet18

    def __post_init__(self):
        require(self.arch in ARCHS, "arch", f"unknown architecture {self.arch!r}; allowed: {', '.join(ARCHS)}")
        require(all(h > 0 for h in self.hidden), "hidden", f"widths must be positive, got {list(self.hidden)}")
        require(self.arch != "mlp" or len(self.hidden) >= 1, "hidden",
                "the mlp needs one or more hidden widths")
        if self.arch == "cnn":
            require(1 <= len(self.channels) <= 4 and all(c > 0 for c in self.channels), "channels",
                    f"cnn needs 1 to 4 positive conv widths, got {list(self.channels)}")
        else:
            require(not self.channels, "channels", f"{self.arch} has no configurable conv widths: use []")


@dataclass(frozen=True)
class RelearnConfig:
    """The relearn attack: fine-tune on k forget-train samples, track forget-test accuracy."""

    samples: tuple[int, ...]  # the k values of the attack (one curve each)
    steps: int  # optimiser steps per attack (full-batch on the k samples)
    lr: float  # Adam learning rate of the attacker
    eval_every: int  # steps between two forget-test evaluations

    def __post_init__(self):
        require(len(self.samples) >= 1 and all(k > 0 for k in self.samples), "samples",
                 f"needs one or more positive sample counts, got {list(self.samples)}")
        positive(self, "steps", "lr", "eval_every")


@dataclass(frozen=True)
class TLSConfig:
    """PEM files of a tls:// Dask cluster (stages.base.dask_security); null = Dask's own configuration, e.g. the env
    DASK_DISTRIBUTED__COMM__TLS__CA_FILE, DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT, ..._CLIENT__KEY."""

    ca_file: str | None  # the certificate authority that signed the cluster's certificates
    cert: str | None  # this client's certificate (signed by that authority)
    key: str | None  # its private key; null if it is in the cert file


@dataclass(frozen=True)
class ExecutorConfig:
    """Where a stage's per-chain work runs (stages.base.common.parallel_map). It changes how, never what, a stage
    computes: both executors write byte-identical outputs."""

    kind: str  # local (this machine's processes) | dask (tasks on an existing Dask cluster)
    address: str | None  # dask: the scheduler, e.g. tls://10.0.0.5:8786; the env DASK_SCHEDULER_ADDRESS overrides it
    tls: TLSConfig  # the certificates of a tls:// address
    # accept tcp:// (no authentication: whoever reaches the port runs code in the cluster and in the stage) on an
    # address other than loopback; false: tcp:// only on 127.0.0.0/8, ::1 or localhost
    insecure_tcp: bool

    def __post_init__(self):
        require(self.kind in EXECUTORS, "kind", f"unknown executor {self.kind!r}; allowed: {', '.join(EXECUTORS)}")


@dataclass(frozen=True)
class Config:
    audit: AuditConfig  # the chains
    device: str  # auto | cpu | cuda
    executor: ExecutorConfig  # where the chains run
    data: DataConfig
    scenario: ScenarioConfig
    model: ModelConfig
    train: TrainConfig  # pretraining and the retrain oracle
    relearn: RelearnConfig
    methods: dict  # method name -> that method's frozen Params (or its raw block, if not asked for: config.load)

    @property
    def seeds(self) -> tuple[int, ...]:
        """The chain indices 0 .. chains - 1; every random draw of chain i derives from i (unlearning.core.rng)."""
        return tuple(range(self.audit.chains))

    @property
    def attack_seeds(self) -> tuple[int, ...]:
        """The chains that also get the relearn attack: the first audit.attack_chains."""
        return tuple(range(self.audit.attack_chains))

    def __post_init__(self):
        require(self.device in DEVICES, "device", f"unknown device {self.device!r}; allowed: {', '.join(DEVICES)}")
        classes = DATASET_CLASSES[self.data.name]
        for key in ("pretrain_classes", "learn"):
            labels = getattr(self.scenario, key)
            as_tuple = labels if isinstance(labels, tuple) else () if labels is None else (labels,)
            require(all(0 <= c < classes for c in as_tuple),
                    f"scenario.{key}", f"{self.data.name} has labels 0..{classes - 1}, got {labels!r}")


def _coerce(value, annotation, key: str):
    """Check a YAML value against a field annotation (int, float, str, bool, tuple[int, ...], dataclass)."""
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):  # `X | None`: null is allowed, anything else must be an X
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return None if value is None else _coerce(value, inner, key)
    if dataclasses.is_dataclass(annotation):
        return parse_dataclass(annotation, value, key)
    if origin is tuple:
        require(isinstance(value, list), key, f"must be a list, got {value!r}")
        (inner, _ellipsis) = typing.get_args(annotation)
        return tuple(_coerce(v, inner, f"{key}[{i}]") for i, v in enumerate(value))
    if annotation is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        require(ok, key, f"must be a number, got {value!r}")
        require(math.isfinite(value), key, f"must be a finite number, got {value!r}")
        return float(value)
    if annotation is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        require(ok, key, f"must be an integer, got {value!r}")
        return value
    if annotation is bool:
        require(isinstance(value, bool), key, f"must be true or false, got {value!r}")
        return value
    if annotation is str:
        require(isinstance(value, str), key, f"must be a string, got {value!r}")
        return value
    if annotation is dict or isinstance(annotation, types.GenericAlias):
        return value
    raise TypeError(f"unsupported annotation {annotation!r} for {key}")


def parse_dataclass(cls, raw, prefix: str):
    """Build `cls` from a YAML mapping; missing or unknown keys and bad values name `prefix.key`."""
    require(isinstance(raw, dict), prefix, f"must be a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for name in names:
        require(name in raw, f"{prefix}.{name}".lstrip("."), "missing key")
    unknown = sorted(set(raw) - set(names))
    require(not unknown, f"{prefix}.{unknown[0] if unknown else ''}".lstrip("."),
             f"unknown key; allowed: {', '.join(names)}")
    values = {n: _coerce(raw[n], hints[n], f"{prefix}.{n}".lstrip(".")) for n in names}
    try:
        return cls(**values)
    except ConfigError as err:  # __post_init__ names the bare field: make it a full dotted path
        raise ConfigError(f"{prefix}.{err.key}".lstrip("."), str(err).split(": ", 2)[-1]) from None


def _parse_methods(raw, parse: Iterable[str] | None) -> dict:
    """name -> the method's Params for the names in `parse` (None = every method), the raw mapping for the others:
    parsing a block imports the method's module, and a stage imports only the methods it runs."""
    from unlearning.core.registry import METHODS  # late import: methods import config

    require(isinstance(raw, dict) and raw, "methods", "must be a non-empty mapping of method name -> params")
    parsed = {}
    for name, block in raw.items():
        require(name in METHODS, f"methods.{name}", f"unknown method; allowed: {', '.join(sorted(METHODS))}")
        block = block if block is not None else {}
        require(isinstance(block, dict), f"methods.{name}", f"must be a mapping of keys, got {block!r}")
        parsed[name] = (parse_dataclass(METHODS[name].Params, block, f"methods.{name}")
                        if parse is None or name in parse else block)
    return parsed


def parse(raw, methods: Iterable[str] | None = None) -> Config:
    """methods: the methods whose blocks become Params (None = all); see _parse_methods."""
    require(isinstance(raw, dict), "params", "params.yaml must hold a mapping")
    raw = dict(raw)
    parsed_methods = _parse_methods(raw.pop("methods", None), methods)
    hints = typing.get_type_hints(Config)
    fields = {f.name: f for f in dataclasses.fields(Config) if f.name != "methods"}
    for name in fields:
        require(name in raw, name, "missing key")
    unknown = sorted(set(raw) - set(fields))
    require(not unknown, unknown[0] if unknown else "", f"unknown key; allowed: {', '.join([*fields, 'methods'])}")
    values = {n: _coerce(raw[n], hints[n], n) for n in fields}
    return Config(**values, methods=parsed_methods)


class _Yaml12Loader(yaml.SafeLoader):
    """PyYAML follows YAML 1.1, which reads 1e6 and even 1.0e6 as strings (only 1.0e+6 is a float there); DVC
    reads params.yaml as YAML 1.2 (ruamel), where all three are the number 10^6. Reading them as DVC does keeps
    `dvc params diff` / `dvc exp show` and the stages in agreement, and a researcher's `lr: 1e-4` works."""


_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


def read_yaml(path: str | Path):
    """A params file's raw content; a missing or malformed file is a ConfigError naming it."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(str(path), "params file not found")
    try:
        return yaml.load(path.read_text(), Loader=_Yaml12Loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as err:
        raise ConfigError(str(path), f"not valid YAML ({err.__class__.__name__})") from None


def load(path: str | Path = "params.yaml", methods: Iterable[str] | None = None) -> Config:
    return parse(read_yaml(path), methods)
