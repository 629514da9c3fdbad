from ms_prcs.cli import main

main()
