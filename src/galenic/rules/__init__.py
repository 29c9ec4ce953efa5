"""Pure GMP rules: units, numbers, expressions, limits, yields. No Django import anywhere here."""
