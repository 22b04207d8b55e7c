"""The labelled ceasefire corpus: records, validation, splits."""
