"""Key-step mutation check: every method's defining step, removed or inverted by a one-line source edit, must make
at least one of that method's own tests fail.

    python bench/mutations.py                 # every edit in MUTATIONS; prints caught / total and a table
    python bench/mutations.py scrub salun     # only those methods' edits

Each edit is applied to a temporary copy of src/ and tests/ (the working tree is never touched), and the method's
own tests run there with PYTHONPATH pointing at the copy: tests/test_method_<m>.py (and any extra files listed),
plus `-k <m>` of tests/test_methods.py and tests/test_methods_zoo.py. An edit whose `old` text is not found is an
error (the list went stale), never a silent pass. docs/mutations.md holds the list and the last result."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
M = "src/unlearning/methods/"


class Mutation(NamedTuple):
    method: str  # whose tests must catch it
    what: str  # the defining step removed or inverted
    path: str  # file edited, relative to the repository root
    old: str  # text replaced (must occur exactly once)
    new: str


MUTATIONS = [
    Mutation("scrub", "max step dropped (its loss x 0)", M + "shared.py",
             "return -kl.mean() + l2_penalty", "return 0 * kl.mean() + l2_penalty"),
    Mutation("scrub", "max step's sign flipped (KL minimised on forget)", M + "shared.py",
             "return -kl.mean() + l2_penalty", "return kl.mean() + l2_penalty"),
    Mutation("scrub", "KL term of the min step dropped", M + "shared.py",
             "+ params.kl_weight * role_mean(kl, is_retain[idx])", "+ 0 * role_mean(kl, is_retain[idx])"),
    Mutation("scrub", "KL of the min step on the new-class images too", M + "shared.py",
             "role_mean(kl, is_retain[idx])", "kl.mean()"),
    Mutation("salun", "smallest |grad| selected instead of largest", M + "shared.py",
             "return {name: g >= threshold for name, g in grads.items()}",
             "return {name: g <= torch.kthvalue(flat, keep).values for name, g in grads.items()}"),
    Mutation("saliency_freeze", "smallest |grad| selected instead of largest", M + "shared.py",
             "return {name: g >= threshold for name, g in grads.items()}",
             "return {name: g <= torch.kthvalue(flat, keep).values for name, g in grads.items()}"),
    Mutation("salun", "weight decay dropped", M + "salun.py",
             "+ l2_penalty(model, params.weight_decay)", "+ 0 * l2_penalty(model, params.weight_decay)"),
    Mutation("salun_rl", "forget images keep their own label", M + "salun_rl.py",
             "relabelled = Part(splits.forget.x, random_other_slots(splits.forget, splits.num_slots, generator))",
             "relabelled = Part(splits.forget.x, splits.forget.y)"),
    Mutation("l1_sparse", "schedule disconnected (gamma stays at its first value)", M + "l1_sparse.py",
             "epoch = done[0] // per_epoch", "epoch = 0"),
    Mutation("l1_sparse", "schedule per step instead of per epoch", M + "l1_sparse.py",
             "gamma_at(epoch, params.epochs, params.l1)",
             "gamma_at(done[0] / per_epoch, params.epochs, params.l1)"),
    Mutation("ewc", "uniform Fisher weights", M + "ewc.py",
             "return {name: f / total for name, f in fisher.items()}",
             "return {name: torch.ones_like(f) / sum(g.numel() for g in fisher.values()) for name, f in fisher.items()}"),
    Mutation("mi_regularizer", "MI term x 0", M + "mi_regularizer.py",
             "return learn + params.gamma * mutual_information", "return learn + 0 * mutual_information"),
    Mutation("neggrad", "descent instead of ascent", M + "neggrad.py",
             "return -F.cross_entropy(model(xb), yb)", "return F.cross_entropy(model(xb), yb)"),
    Mutation("neggrad_plus", "forget term's sign flipped", M + "neggrad_plus.py",
             "return params.alpha * kept - (1 - params.alpha)", "return params.alpha * kept + (1 - params.alpha)"),
    Mutation("neggrad_plus", "L2 pull to the starting weights dropped", M + "neggrad_plus.py",
             "+ l2_penalty(model, params.l2_pull, start)", "+ 0 * l2_penalty(model, params.l2_pull, start)"),
    Mutation("cf_k", "every layer trains", M + "cf_k.py",
             "trainable=trainable, desc=\"cf_k\"", "desc=\"cf_k\""),
    Mutation("finetune", "trained on the forget images too", M + "finetune.py",
             "splits.target", "splits.pretrain"),
    Mutation("eu_k", "top layers not re-initialised (= cf_k)", M + "eu_k.py",
             "    reinitialise(linear_layers(model)[-params.k:], generator)", "    pass"),
    Mutation("fisher_forgetting", "uniform Fisher (noise ignores the retain Fisher)", M + "fisher_forgetting.py",
             "var = (1.0 / (f + 1e-8))", "var = (1.0 / (f.mean() + 1e-8) + 0 * f)"),
    Mutation("fisher_forgetting", "forgotten head row not zeroed", M + "fisher_forgetting.py",
             "                p[splits.forget_slot] = 0\n", ""),
    Mutation("bad_teacher", "competent teacher on the forget images too", M + "bad_teacher.py",
             "predict(incompetent_teacher(model, generator), forget.x)", "predict(model, forget.x)"),
    Mutation("scrub_r", "no rewinding (the last checkpoint kept)", M + "scrub_r.py",
             "model.load_state_dict(checkpoints[best][1])", "model.load_state_dict(checkpoints[-1][1])"),
    Mutation("boundary_expanding", "forget images keep their own label (no shadow class)",
             M + "boundary_expanding.py",
             "shadow_label = torch.full_like(forget.y, splits.num_slots)", "shadow_label = forget.y"),
    Mutation("npo", "reference model dropped (p_ref = 1)", M + "npo.py",
             "npo_loss(-ce, log_p_ref[idx_b], params.beta)", "npo_loss(-ce, 0 * log_p_ref[idx_b], params.beta)"),
    Mutation("npo", "retain cross-entropy dropped", M + "npo.py",
             "+ params.retain_weight * role_mean(ce, ~forget_b)", "+ 0 * role_mean(ce, ~forget_b)"),
    Mutation("ssd", "selection inverted (D importance > alpha x forget)", M + "ssd.py",
             "selected = imp_f > params.selection * imp_d", "selected = imp_d > params.selection * imp_f"),
    Mutation("ssd", "selected by the wrong ratio (lambda in place of alpha)", M + "ssd.py",
             "selected = imp_f > params.selection * imp_d", "selected = imp_f > params.dampening * imp_d"),
    Mutation("ssd", "dampening skipped (selected weights kept)", M + "ssd.py",
             "p.mul_(factors[name])", "p.mul_(torch.ones_like(factors[name]))"),
    Mutation("boundary_shrink", "forget images keep their own label (no FGSM neighbour)", M + "boundary_shrink.py",
             "shrunk = Part(forget.x, boundary_labels(model, forget.x, forget.y, params.epsilon, low, high))",
             "shrunk = Part(forget.x, forget.y)"),
    Mutation("boundary_shrink", "FGSM step dropped (label = clean prediction)", M + "boundary_shrink.py",
             "return predict(model, fgsm(model, x, y, epsilon, low, high)).argmax(1)",
             "return predict(model, x).argmax(1)"),
    Mutation("boundary_shrink", "FGSM step descends the loss", M + "boundary_shrink.py",
             "x + epsilon * scale * grad.sign()", "x - epsilon * scale * grad.sign()"),
    Mutation("head_mask", "mask dropped", M + "head_mask.py",
             "        model.head.weight[splits.forget_slot].zero_()\n"
             "        model.head.bias[splits.forget_slot] = params.mask_logit\n", "        pass\n"),
    Mutation("head_mask", "head row kept (only the bias set)", M + "head_mask.py",
             "        model.head.weight[splits.forget_slot].zero_()\n", ""),
    Mutation("retrain_short", "pretrained weights kept (no fresh initialisation)", M + "retrain_short.py",
             "    fresh_init(model, generator)\n", ""),
    Mutation("retrain_short", "budget ignored (the full retrain's epochs)", M + "retrain_short.py",
             "steps=budget_steps(len(target), params)", "steps=None"),
    Mutation("shrink_refit", "no shrink (the refit starts from the original weights)", M + "shrink_refit.py",
             "mine.lerp_(new, params.reset)", "mine.lerp_(new, 0.0)"),
    Mutation("shrink_refit", "full reset (a retrain cut short)", M + "shrink_refit.py",
             "mine.lerp_(new, params.reset)", "mine.lerp_(new, 1.0)"),
    Mutation("shrink_refit", "head calibration dropped", M + "shrink_refit.py",
             "        calibrate_head(model, target_median, calib_x, calib_y)\n", "        pass\n"),
    Mutation("shrink_refit", "head calibrated to the refit model's own confidence", M + "shrink_refit.py",
             "    average.apply()\n",
             "    average.apply()\n"
             "    target_median = median_confidence(predict(model, calib_x).double(), calib_y)\n"),
    Mutation("shrink_refit", "tail average dropped (the last weights kept)", M + "shrink_refit.py",
             "    average.apply()\n", "    pass\n"),
]
# `original` has no step to remove: its one test (weights bit-identical) is its whole definition.
EXTRA_TESTS = {"salun": ["tests/test_method_salun.py"]}


def test_commands(method: str, root: Path) -> list[list[str]]:
    """The method's own test file(s) in full, then its cases of the two shared method test files."""
    pytest = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    own = [f"tests/test_method_{method}.py"] if (root / f"tests/test_method_{method}.py").exists() else []
    own = list(dict.fromkeys(own + EXTRA_TESTS.get(method, [])))
    shared = [*pytest, "tests/test_methods.py", "tests/test_methods_zoo.py", "-k", method]
    return ([[*pytest, *own]] if own else []) + [shared]


def run(mutation: Mutation, workdir: Path) -> bool:
    """True when the mutated copy fails the method's tests (the edit is caught)."""
    copy = workdir / "repo"
    if copy.exists():
        shutil.rmtree(copy)
    copy.mkdir()
    for part in ("src", "tests"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("params.yaml", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, copy / name)
    if mutation.old == mutation.new:  # the baseline: an unmutated copy must pass
        return any(subprocess.run(c, cwd=copy, env={**os.environ, "PYTHONPATH": str(copy / "src")},
                                  capture_output=True, text=True).returncode != 0
                   for c in test_commands(mutation.method, copy))
    target = copy / mutation.path
    text = target.read_text()
    if text.count(mutation.old) != 1:
        raise SystemExit(f"stale mutation for {mutation.method} ({mutation.what}): "
                         f"{mutation.old!r} occurs {text.count(mutation.old)}x in {mutation.path}")
    target.write_text(text.replace(mutation.old, mutation.new))
    env = {**os.environ, "PYTHONPATH": str(copy / "src")}
    for command in test_commands(mutation.method, copy):
        # 0: passed (missed); 5: nothing collected, which proves nothing (counted as missed)
        if subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True).returncode not in (0, 5):
            return True
    return False


def main(methods: list[str]) -> int:
    chosen = [m for m in MUTATIONS if not methods or m.method in methods]
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        # first each method's tests on the unmutated copy: a test that already fails would "catch" every edit
        for method in dict.fromkeys(m.method for m in chosen):
            if run(Mutation(method, "baseline", "", "", ""), Path(workdir)):
                raise SystemExit(f"{method}: its tests fail without any edit; fix them before judging mutations")
        for mutation in chosen:
            caught = run(mutation, Path(workdir))
            rows.append((mutation.method, mutation.what, "caught" if caught else "MISSED"))
            print(f"{mutation.method:20s} {mutation.what:55s} {rows[-1][2]}", flush=True)
    caught = sum(r[2] == "caught" for r in rows)
    print(f"\n{caught} / {len(rows)} caught")
    return 0 if caught == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
