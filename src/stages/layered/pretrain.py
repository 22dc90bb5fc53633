"""pretrain: the init model of every seed: A, B and retain labelled 1, the null background 0."""
from stages.base.common import stage
from stages.layered.common import train_stage

main = stage(lambda: train_stage("pretrain"))

if __name__ == "__main__":
    main()
