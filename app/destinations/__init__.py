"""毕业去向: where each graduate goes, one effective destination at a time."""
