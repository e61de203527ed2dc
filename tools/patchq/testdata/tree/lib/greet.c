/* Greeting helpers. */
#include "greet.h"

const char *greeting(void)
{
	return "hello";
}

int greeting_length(void)
{
	return 5;
}
