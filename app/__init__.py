"""A FastAPI service: users, posts, JWT auth, a Redis cache, Celery tasks, an HTTP client."""
