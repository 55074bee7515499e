-- Verify zkeb:default_privileges on pg
BEGIN;

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_default_acl d
         WHERE d.defaclrole = 'zkeb_owner'::regrole
           AND d.defaclnamespace = 0
           AND d.defaclobjtype = 'f'
           AND NOT EXISTS (SELECT 1 FROM aclexplode(d.defaclacl) a WHERE a.grantee = 0)) THEN
        RAISE EXCEPTION 'verify default_privileges: PUBLIC still gets EXECUTE on new functions of zkeb_owner';
    END IF;
END
$$;

ROLLBACK;
