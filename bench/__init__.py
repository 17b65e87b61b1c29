"""National-scale data generator and load benchmark (`make bench`)."""
