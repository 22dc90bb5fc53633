"""oracle_b: a second retrain per chain, independent of the first (unlearning.audit: the exact-retrain row)."""
from stages.base.common import stage
from stages.reference import train_references

main = stage(lambda: train_references("oracle_b"))

if __name__ == "__main__":
    main()
