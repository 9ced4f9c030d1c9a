-- A team may require a second factor of everyone: a member without one sets an
-- authenticator up at their next sign-in, with a login challenge whose purpose is
-- `enrol` (the others `verify`).
ALTER TABLE teams ADD COLUMN mfa_required BIGINT NOT NULL DEFAULT 0;
ALTER TABLE mfa_challenges ADD COLUMN purpose TEXT NOT NULL DEFAULT 'verify';
