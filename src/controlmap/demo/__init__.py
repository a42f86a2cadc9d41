"""The built-in demo account: a moto server on loopback seeded with realistic resources."""
