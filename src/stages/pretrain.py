"""pretrain: the original model of each seed, trained on the pretrain classes (the forget class included)."""
from stages.base.common import stage
from stages.reference import train_references

main = stage(lambda: train_references("pretrained"))

if __name__ == "__main__":
    main()
