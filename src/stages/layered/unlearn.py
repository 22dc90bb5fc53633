"""unlearn: base unlearning (A and B relabelled 0 at once) and Layered Unlearning (A first, B kept; then B)."""
from stages.base.common import stage
from stages.layered.common import train_stage

main = stage(lambda: train_stage("unlearn"))

if __name__ == "__main__":
    main()
