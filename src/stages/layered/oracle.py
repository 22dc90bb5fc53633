"""oracle: the retrain oracle: trained from scratch with A and B labelled 0, a model that never learned them."""
from stages.base.common import stage
from stages.layered.common import train_stage

main = stage(lambda: train_stage("oracle"))

if __name__ == "__main__":
    main()
