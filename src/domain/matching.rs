//! Duplicate matching: normalization of the values duplicate rules compare.
