"""The producer's tools beside the stages: doctor, new, lexicon suggest, artwork."""
