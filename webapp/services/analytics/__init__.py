"""What the stored profiles say together: look-alikes, recommendations, the population map,
the overview."""
