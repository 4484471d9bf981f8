"""Tariff rates of duty and units of quantity: pure parsing and exact conversions."""
