"""Is a generator any good, and equally good for every condition and skin tone? Metrics on images and
their features, independent of how the images were made."""
