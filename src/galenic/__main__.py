from galenic.cli import main

main()
