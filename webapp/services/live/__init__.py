"""Living data: the change feed, data version stamps, memory handed back, SQL helpers."""
