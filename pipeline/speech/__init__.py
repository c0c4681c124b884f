"""Speech: voices, ASR backends, spoken text, lexicon, alignment, cues."""
