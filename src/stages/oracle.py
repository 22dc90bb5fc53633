"""oracle: retrain from scratch on the final class set, as if the forget data had never existed."""
from stages.base.common import stage
from stages.reference import train_references

main = stage(lambda: train_references("oracle"))

if __name__ == "__main__":
    main()
