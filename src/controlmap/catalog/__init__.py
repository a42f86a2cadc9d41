"""The controls catalog: the standard as validated data (controls, resource types, frameworks, plan)."""
