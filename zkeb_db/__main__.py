from zkeb_db.cli import main

raise SystemExit(main())
