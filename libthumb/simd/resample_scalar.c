#include "../internal.h"
