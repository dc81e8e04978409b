"""``python -m app.feedback export OUT.npz``: see app.feedback.export."""

from app.feedback.export import main

if __name__ == "__main__":
    raise SystemExit(main())
