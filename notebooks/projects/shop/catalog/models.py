from django.db import models


class Category(models.Model):
    name = models.CharField(max_length=100)

    def __str__(self):
        return self.name


class Product(models.Model):
    name = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    sku = models.CharField(max_length=20, blank=True, default="")
    stock = models.PositiveIntegerField(default=0)

    def __str__(self):
        return self.name
