-- A token whose seed a member held when they were disabled must be rotated: they
-- may have kept a copy. Set at the disabling, cleared by the next rotation.
ALTER TABLE shared_tokens ADD COLUMN needs_rotation_since BIGINT;
