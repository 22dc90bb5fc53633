"""evaluate: every model of every chain, then every model's distribution over chains against the retrains'.

Per chain (in parallel): output accuracies, distance to the chain's retrain, membership inference, the probe (on
the attack chains), the relearn attack's area, and each forget-train example's confidence. Then unlearning.audit:
the per-example forgetting score with its ceiling, and each metric against the retrain band.

Writes metrics/models/<model>.json (a handful of headline numbers per model: what `dvc metrics` shows, one row per
model), metrics/summary.json (every mean, one flat entry per model), metrics/audit.json (every
interval, band and verdict, and each method's per-example epsilons), metrics/per_chain.csv, metrics/report.md, and
eval/predictions.csv (for the plot stage). .cache/audit keeps each model's results between runs, so that only
new or changed models are evaluated and audited (stages.audit_cache)."""
from __future__ import annotations

import pandas as pd
import torch
import yaml

from stages import audit_cache
from stages.base.common import (EVAL, METRICS, PARAMS, RELEARN, data_path, model_dir, open_experiment, parallel_map,
                                read_runs, seed_file, stage)
from unlearning import audit
from unlearning import compute
from unlearning.core import config, io
from unlearning.evaluation import GAP_METRICS, ChainReference, model_metrics, relearn_metrics
from unlearning.core.registry import HIDING, UNTRAINED
from unlearning.metrics import gap_to_oracle
from unlearning.records import audit_file, headline, summary_entry
from unlearning.report import report
from unlearning.timing import timing_report
from unlearning.core.train import Diverged, predict

PREDICTION_HEADER = "model,seed,actual,predicted\n"
FALSE_FLAGS = "(the retrains' false-flag rates)"  # the audit job that is no model


def slot_names(scenario: config.ScenarioConfig) -> list[str]:
    """Readable class name of every output slot; a reused slot reads 'old→new'."""
    names = [str(c) for c in sorted(scenario.pretrain_classes)]
    if scenario.learn is not None:
        names[scenario.slot(scenario.forget)] = f"{scenario.forget}→{scenario.learn}"
    return names


def write_score_draws(audits: list[audit.ModelAudit]) -> None:
    """eval/score_draws.csv: every model's bootstrap resamples of its forgetting score (what the suite report
    draws ranks from)."""
    frames = [pd.DataFrame({"model": a.model, "draw": range(len(a.score_draws)), "score": a.score_draws})
              for a in audits if a.score_draws is not None]
    with io.atomic_path(EVAL / "score_draws.csv") as tmp:
        (pd.concat(frames) if frames else pd.DataFrame(columns=["model", "draw", "score"])).to_csv(
            tmp, index=False, float_format="%.6g")


@stage
def main() -> None:
    # Hundreds of small inference ops on small models: with more than one intra-op thread, each op waits on thread
    # hand-offs: on a busy 2-core machine this stage took 27 s instead of 15 s on mnist-5k.
    torch.set_num_threads(1)
    cfg = config.load(PARAMS, methods=())
    exp = open_experiment(cfg, scoring=True)
    side = cfg.audit.split  # test, or val when a tuning sweep scores the models
    models = [*cfg.methods, audit.REFERENCE, audit.EXACT]
    names = slot_names(cfg.scenario)
    curves = {name: pd.DataFrame(io.read_json(RELEARN / f"{name}.json")) for name in models}  # attack chains'
    runs = {name: read_runs(name) for name in [*models, "pretrained"] if name != "original"}
    runs["original"] = runs["pretrained"]
    num_forget = len(exp.splits(0, "train").forget)
    # every model whose inputs are unchanged since the last run: its rows, confidences, predictions and audit
    cache = audit_cache.Cache(audit_cache.CACHE)
    context = audit_cache.context(yaml.safe_load(PARAMS.read_text()), data_path(cfg))

    def part(name: str) -> bytes:
        return audit_cache.model_part([seed_file(model_dir(name), seed, ".pt") for seed in cfg.seeds], runs[name],
                                      RELEARN / f"{name}.json" if name != "pretrained" else None)

    reference_part = part(audit.REFERENCE) + part("pretrained")
    keys = {name: audit_cache.key(context, name.encode(), part(name), reference_part) for name in models}
    cached = {name: cache.get(keys[name]) for name in models}
    todo = [name for name in models if cached[name] is None]
    print(f"evaluate: {len(models) - len(todo)} of {len(models)} models unchanged since the last run (cached), "
          f"{len(todo)} to evaluate: {' '.join(todo) or '-'}", flush=True)

    def diverged(name: str, seed: int) -> str | None:
        """Why this model of this chain has no metrics, or None. A method started from a diverged original model
        inherits its divergence."""
        own = runs[name][seed]["diverged"]
        if own is None and name not in ("original", "oracle", "oracle_b") and runs["pretrained"][seed]["diverged"]:
            return "started from a diverged original model"
        return own

    def compute_share(name: str, seed: int) -> float:
        """The model's compute over the chain's retrain's, both in forward passes of one sample
        (unlearning.compute): machine-independent, unlike seconds. NaN for the original model (trained
        before any request)."""
        if name == "original":
            return float("nan")
        mine, retrain = (compute.passes(runs[m][seed]) for m in (name, "oracle"))
        return mine / retrain if retrain else float("nan")

    def chain_models(seed: int) -> dict[str, torch.nn.Module]:
        """The models of the chain that get scored: none without a retrain, else every model that did not
        diverge."""
        if runs["oracle"][seed]["diverged"]:
            return {}
        return {name: exp.load_model(seed_file(model_dir(name), seed, ".pt"), seed) for name in models
                if name == "oracle" or (name in todo and diverged(name, seed) is None)}

    def evaluate_chain(seed: int, loaded: dict[str, torch.nn.Module]
                       ) -> tuple[list[dict], dict[str, tuple], dict[str, torch.Tensor]]:
        """The chain's models still to evaluate -> their metric rows, their held-out predictions (name ->
        (dataset labels int64 [K], predicted slots int64 [K])) and their forget-set confidences."""
        rows, predictions, confidences = [], {}, {}
        if runs["oracle"][seed]["diverged"]:  # no reference: every model of the chain is reported, none scored
            return [{"model": name, "seed": seed, "diverged": diverged(name, seed) or "retrain diverged"}
                    for name in todo], {}, {}
        oracle = loaded["oracle"]
        draws = cfg.audit.probe_draws if seed in cfg.attack_seeds else 0
        ref = ChainReference.build(seed, exp.splits(seed, "train"), exp.splits(seed, side), exp.evaluation(seed),
                                   oracle, draws)
        # every held-out image whose class either model family knows, with its dataset label, for confusion plots
        labels = exp.tensors[f"{side}_y"]
        keep = torch.isin(labels, torch.tensor(cfg.scenario.known_classes))  # bool [N_test]
        for name in todo:
            reason = diverged(name, seed)
            if reason is None:
                model = loaded[name]
                try:
                    metrics, confidences[name] = model_metrics(model, ref)
                except Diverged as err:  # finite weights, non-finite outputs
                    reason = str(err)
            if reason is not None:
                rows.append({"model": name, "seed": seed, "diverged": reason})
                continue
            chain_curves = curves[name][curves[name].seed == seed] if len(curves[name]) else curves[name]
            rows.append({"model": name, "seed": seed, "diverged": None, **metrics, **relearn_metrics(chain_curves),
                         "compute_share": compute_share(name, seed)})
            predicted = predict(model, exp.tensors[f"{side}_x"][keep]).argmax(1).cpu()
            predictions[name] = (labels[keep], predicted)
        return rows, predictions, confidences

    results = parallel_map(evaluate_chain, cfg.seeds, exp.device, inputs=chain_models, executor=cfg.executor) \
        if todo else []
    # model -> its rows, confidences float64 [N_chains, E] (NaN rows where the model or the chain's retrain has
    # none) and predictions per chain: the cached ones and this run's
    missing = torch.full((num_forget,), float("nan"), dtype=torch.float64)
    entries = {name: {"rows": [row for rows, _, _ in results for row in rows if row["model"] == name],
                      "confidences": torch.stack([conf.get(name, missing) for _, _, conf in results]),
                      "predictions": [(seed, *preds[name]) for seed, (_, preds, _) in zip(cfg.seeds, results)
                                      if name in preds]} for name in todo}
    entries.update({name: entry for name, entry in cached.items() if entry is not None})
    position = {seed: i for i, seed in enumerate(cfg.seeds)}
    # chain by chain, models in params order within each: the order of a run without the cache
    per_chain = pd.DataFrame(sorted((row for name in models for row in entries[name]["rows"]),
                                    key=lambda row: (position[row["seed"]], models.index(row["model"]))))
    reasons = per_chain.pop("diverged")
    if "forget_acc" in per_chain:  # else every chain's retrain diverged: nothing to score, only reasons to report
        per_chain.insert(2, "gap_to_oracle", gap_to_oracle(per_chain, GAP_METRICS))
    confidences = {name: entries[name]["confidences"] for name in models}
    audits, ceiling, false_flags = [], None, None
    if "forget_acc" in per_chain:
        # the retrains' split-half false-flag rates depend on the two retrain populations only
        has_exact = bool((per_chain.model == audit.EXACT).any())
        flags_key = audit_cache.key(context, b"false flags", keys[audit.REFERENCE].encode(), keys[audit.EXACT].encode())
        false_flags = (cache.get(flags_key) or {}).get("false_flags") if has_exact else None
        jobs = [*([FALSE_FLAGS] if has_exact and false_flags is None else []), *todo]

        def audit_or_flags(job: str):
            if job == FALSE_FLAGS:
                return audit.false_flag_rates(per_chain, list(cfg.seeds), cfg.audit)
            return audit.audit_model(job, per_chain, confidences, list(cfg.seeds), cfg.audit)

        # in parallel: the false-flag rates (first: the longest job) and each model, which rescores its bootstrap
        # resamples of the forgetting score
        fresh = dict(zip(jobs, parallel_map(audit_or_flags, jobs, exp.device, executor=cfg.executor)))
        false_flags = fresh.pop(FALSE_FLAGS, false_flags)
        if has_exact:
            cache.put(flags_key, {"false_flags": false_flags})
        for name in todo:
            cache.put(keys[name], {**entries[name], "audit": audit_cache.audit_to_plain(fresh[name])})
        audits = [fresh[name] if name in fresh else audit_cache.audit_from_plain(cached[name]["audit"])
                  for name in models]
        ceiling = audit.apply_ceiling(audits, cfg.audit)
    why = {name: reasons[(per_chain.model == name).to_numpy() & reasons.notna().to_numpy()] for name in models}
    summary = {a.model: summary_entry(a, per_chain, len(why[a.model])) for a in audits}
    for name in models:
        summary.setdefault(name, {"diverged_chains": len(why[name])})
        if len(why[name]):
            summary[name]["diverged"] = why[name].iloc[0]
    with io.atomic_path(METRICS / "models") as folder:
        folder.mkdir()
        for name, entry in summary.items():
            (folder / f"{name}.json").write_text(io.json_text(headline(entry)))
    io.write_json(METRICS / "summary.json", summary)
    io.write_json(METRICS / "audit.json", audit_file(audits, ceiling, false_flags, cfg.audit.chains))
    per_chain.insert(2, "diverged", reasons)
    with io.atomic_path(METRICS / "per_chain.csv") as tmp:
        per_chain.to_csv(tmp, index=False, float_format="%.6g")
    declared_hiding = [m for m in cfg.methods if m in HIDING]
    io.write_text(METRICS / "report.md", report(audits, ceiling, false_flags, cfg, declared_hiding, summary))
    write_score_draws(audits)
    io.write_text(EVAL / "timing.md", timing_report(runs, [m for m in cfg.methods if m not in UNTRAINED], cfg))
    predictions = sorted(((position[seed], models.index(name), name, seed, actual, predicted)
                          for name in models for seed, actual, predicted in entries[name]["predictions"]),
                         key=lambda p: p[:2])
    with io.atomic_path(EVAL / "predictions.csv") as tmp:
        if predictions:
            pd.concat(pd.DataFrame({"model": name, "seed": seed, "actual": actual.numpy(),
                                    "predicted": [names[p] for p in predicted.tolist()]})
                      for _, _, name, seed, actual, predicted in predictions).to_csv(tmp, index=False)
        else:
            tmp.write_text(PREDICTION_HEADER)
    cache.write()


if __name__ == "__main__":
    main()
