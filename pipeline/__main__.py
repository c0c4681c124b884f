import sys

if sys.argv[1:2] == ["--serve-warm"]:
    from pathlib import Path

    from pipeline import warm

    def _main(argv: list[str]) -> None:
        from pipeline.cli import main  # imported by the warm process's preload

        main(argv)

    warm.serve(Path(sys.argv[2]), _main)
else:
    from pipeline.cli import main

    main()
