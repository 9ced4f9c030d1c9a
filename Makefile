# The two commands of the README. Each first runs an idempotent set-up step.
#   make run   — install what is missing, build, start the app on its embedded defaults
#   make test  — install what is missing, build, run every test
SHELL := /bin/bash
.DEFAULT_GOAL := run
CARGO ?= cargo

.PHONY: run test setup-run setup-test ui ui-test app rust-test bindings-check lint bench

setup-run:
	@scripts/setup.sh run

setup-test:
	@scripts/setup.sh test

# The app embeds ui/dist at compile time, so the UI is built before any cargo build.
ui:
	cd ui && npm run build

app: ui
	$(CARGO) build -p kaito

run: setup-run ui
	$(CARGO) run -p kaito

ui-test:
	cd ui && npm run check && npm test

# Every Rust test — unit, integration and end-to-end — inside a throwaway desktop
# session (Xvfb + private D-Bus + unlocked gnome-keyring), beside a throwaway
# PostgreSQL server (the team server tests run on SQLite and PostgreSQL) and a
# real OpenID provider (the SSO tests sign in against it).
rust-test: app
	scripts/with-postgres.sh scripts/with-oidc-provider.sh scripts/with-test-session.sh $(CARGO) test --workspace --no-fail-fast

# The TypeScript bindings are generated from Rust types when the Rust tests run;
# a difference means someone changed a type without committing the new bindings.
bindings-check:
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  git diff --exit-code --stat -- ui/src/bindings || { echo "ui/src/bindings is stale: commit the regenerated files"; exit 1; }; \
	  untracked=$$(git ls-files --others --exclude-standard -- ui/src/bindings); \
	  if [ -n "$$untracked" ]; then echo "new bindings not committed: $$untracked"; exit 1; fi; \
	fi

test: setup-test ui-test rust-test bindings-check

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets

# The vault benchmark opens a real keychain, so it runs inside the test session.
bench:
	$(CARGO) bench -p kaito-core
	scripts/with-test-session.sh $(CARGO) bench -p kaito-vault
