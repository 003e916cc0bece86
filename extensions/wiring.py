import sys
print("wiring stub", sys.argv[1:])
