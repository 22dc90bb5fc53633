"""relearn: the relearn attack: fine-tune base, LU and the oracle on A alone or B alone, labelled 1."""
from stages.base.common import stage
from stages.layered.common import train_stage

main = stage(lambda: train_stage("relearn"))

if __name__ == "__main__":
    main()
