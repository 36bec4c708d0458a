"""The project's own tooling (CLI, tour, dashboard). Recipes never import this package."""
