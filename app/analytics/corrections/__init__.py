"""Post-summary corrections and classification consistency: filed entries whose duty would
change under a later correction, and products filed under more than one HTS line."""
