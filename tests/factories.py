"""factory-boy factories; the `factories` fixture binds them to the test's session."""

from __future__ import annotations

import factory

from app.models import Post, User
from app.timestamps import utc_now


class UserFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = User
        sqlalchemy_session = None  # set by the `factories` fixture
        sqlalchemy_session_persistence = "flush"

    name = factory.Faker("name")
    # A sequence, not Faker("email"): a batch must never repeat an address.
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    # Timezone-aware, unlike the seed's datetime.utcnow (deprecated, naive).
    created_at = factory.LazyFunction(utc_now)


class PostFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = Post
        sqlalchemy_session = None
        sqlalchemy_session_persistence = "flush"

    title = factory.Faker("sentence", nb_words=6)
    content = factory.Faker("text", max_nb_chars=500)
    author = factory.SubFactory(UserFactory)
    created_at = factory.LazyFunction(utc_now)
