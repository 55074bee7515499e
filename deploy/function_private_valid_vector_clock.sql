-- Deploy zkeb:function_private_valid_vector_clock to pg
-- requires: schema_zkeb_private
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- A vector clock is a JSON object of at most 1,000 entries mapping a device
-- id (uuid text) to a non-negative integer. Used by a CHECK, so IMMUTABLE.
CREATE FUNCTION zkeb_private.valid_vector_clock(clock jsonb)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _key text;
    _value jsonb;
    _n integer := 0;
BEGIN
    IF clock IS NULL OR pg_catalog.jsonb_typeof(clock) <> 'object' THEN
        RETURN false;
    END IF;
    FOR _key, _value IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(clock) AS e LOOP
        _n := _n + 1;
        IF _n > 1000 THEN
            RETURN false;
        END IF;
        IF _key !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
            RETURN false;
        END IF;
        IF pg_catalog.jsonb_typeof(_value) <> 'number'
           OR (_value #>> '{}') !~ '^[0-9]{1,18}$' THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END
$$;

COMMENT ON FUNCTION zkeb_private.valid_vector_clock(jsonb) IS
    'True when clock is a JSON object of at most 1000 entries mapping lower-case uuid text to a non-negative integer below 10^18.';
REVOKE ALL ON FUNCTION zkeb_private.valid_vector_clock(jsonb) FROM PUBLIC;

COMMIT;
