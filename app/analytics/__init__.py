"""Trade analytics and compliance risks over an account's own clearance data."""
