"""Does synthetic data help a classifier? MobileNet baseline vs baseline + synthetic images, compared on
the same held-out test images with per-class F1, bootstrap intervals and paired tests (paper, Fig. 8)."""
