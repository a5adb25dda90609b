"""Billing's schema migrations, in order; applied by `python -m billing.migrate`.

- orders: one row per accepted order; `idempotency_key` makes a retried POST find its order.
- outbox: an order whose message the broker has not confirmed yet (written in the order's
  transaction, deleted by the relay once the broker confirmed it). Since v2 an insert NOTIFYs
  `billing_outbox`, which wakes the relay, and the relay claims rows by id (oldest first), so
  the age index of v1 is gone.
- payments: the ledger. Its primary key on order_id proves an order was charged at most once;
  UNIQUE (user_id, movie_id) is the business rule "a user buys a movie once".
"""

MIGRATIONS = [
    (
        1,
        """
        CREATE TABLE orders (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            user_id integer NOT NULL CHECK (user_id > 0),
            movie_id integer NOT NULL CHECK (movie_id > 0),
            price numeric(10,2) NOT NULL CHECK (price >= 0),
            status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'rejected')),
            reason text,
            idempotency_key text UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 255),
            created_at timestamptz NOT NULL DEFAULT now(),
            processed_at timestamptz,
            CHECK ((status = 'pending') = (processed_at IS NULL)),
            CHECK ((status = 'rejected') = (reason IS NOT NULL))
        );
        CREATE INDEX orders_by_user ON orders (user_id, created_at DESC, id DESC);

        CREATE TABLE outbox (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            order_id uuid NOT NULL REFERENCES orders (id),
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX outbox_by_age ON outbox (created_at, id);

        CREATE TABLE payments (
            order_id uuid PRIMARY KEY REFERENCES orders (id),
            user_id integer NOT NULL,
            movie_id integer NOT NULL,
            amount numeric(10,2) NOT NULL CHECK (amount >= 0),
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (user_id, movie_id)
        );
        """,
    ),
    (
        2,
        """
        CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('billing_outbox', '');
            RETURN NULL;
        END
        $$;
        CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
            FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
        DROP INDEX outbox_by_age;
        """,
    ),
]
