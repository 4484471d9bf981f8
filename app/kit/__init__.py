"""Small pieces every layer may use: pagination, money."""
