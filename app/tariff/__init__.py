"""Duties and fees under the tariff in force on a date: HTS rates, Chapter 99 programs,
fees, currency conversion and the duty breakdown."""
