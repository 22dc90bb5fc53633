"""What every stage imports: configuration, data, splits, models, the training loop, checked I/O and random
streams. One directory, so that each stage's dvc.yaml deps name it once (DVC hashes a directory dep as a whole,
and a shorter dvc.lock is parsed faster: DVC reads it several times per stage)."""
